"""The AI server's thread pool for blocking work (image decoding, face detection, audio decoding)."""

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

import cv2

from ai_server.config import get_settings

P = ParamSpec("P")
T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    """The shared pool; OpenCV's own threads are set to ``opencv_threads`` (the pool runs in parallel)."""
    global _pool
    if _pool is None:
        settings = get_settings()
        if settings.opencv_threads > 0:
            cv2.setNumThreads(settings.opencv_threads)
        _pool = ThreadPoolExecutor(max_workers=settings.thread_pool_size, thread_name_prefix="ai-work")
    return _pool


async def run_blocking(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn`` in the pool (OpenCV releases the GIL: decoding and detection use all cores)."""
    return await asyncio.get_running_loop().run_in_executor(pool(), functools.partial(fn, *args, **kwargs))


def shutdown_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None
