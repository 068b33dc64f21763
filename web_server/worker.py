"""The analysis worker as its own process: `python -m web_server.worker [--workers N]`.

It reads the same settings as the web server (DATABASE_URL, AI_SERVER_URL, MEDIA_DIR, ANALYSIS_*,
RETRY_*), claims queued uploads in batches and analyses them (`web_server/capture/worker.py`); it also runs
the retention sweep. Run the web processes with `ANALYSIS_WORKERS=0` when workers run apart. With
`--metrics-port`, it serves its Prometheus metrics there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from types import SimpleNamespace

from web_server.capture.worker import analysis_runtime
from web_server.core.config import get_settings
from web_server.core.db import make_engine


async def run(workers: int, metrics_port: int | None) -> None:
    settings = get_settings()
    engine = make_engine(settings.DATABASE_URL, **settings.worker_pool_options(workers))
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    state = SimpleNamespace()
    async with analysis_runtime(state, settings, engine, workers):
        logging.getLogger(__name__).info("analysis workers started: %d", workers)
        await stop.wait()
    engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2, help="worker loops in this process (default 2)")
    parser.add_argument("--metrics-port", type=int, default=None, help="serve /metrics on this port")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run(max(1, args.workers), args.metrics_port))


if __name__ == "__main__":
    main()
