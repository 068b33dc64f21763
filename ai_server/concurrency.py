"""The AI server's pools for blocking work: threads (image decoding, face detection, audio decoding) and
processes for native libraries that cannot share a process with TensorFlow (openSMILE)."""

import asyncio
import functools
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

import cv2

from ai_server.config import get_settings

P = ParamSpec("P")
T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None
_processes: ProcessPoolExecutor | None = None


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


def process_pool() -> ProcessPoolExecutor:
    """Worker processes started fresh (``spawn``: they never load TensorFlow), at most 4, on demand.

    openSMILE corrupts the heap of a process where TensorFlow is loaded, so it runs only here."""
    global _processes
    if _processes is None:
        _processes = ProcessPoolExecutor(
            max_workers=min(4, os.cpu_count() or 1), mp_context=multiprocessing.get_context("spawn")
        )
    return _processes


async def run_in_process(fn: Callable[P, T], *args: P.args) -> T:
    """Run ``fn`` (picklable, as are its arguments and result) in the process pool; a pool whose worker died
    is replaced for the next call (this one raises ``BrokenProcessPool``)."""
    global _processes
    try:
        return await asyncio.wrap_future(process_pool().submit(fn, *args))
    except BrokenProcessPool:
        _processes = None
        raise


def shutdown_pool() -> None:
    global _pool, _processes
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None
    if _processes is not None:
        _processes.shutdown(wait=False, cancel_futures=True)
        _processes = None
