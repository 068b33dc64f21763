"""Micro-batching: concurrent submissions within a few milliseconds go through ONE compiled model call.

Generic over models: the face path submits one crop per face, the voice path many windows per request. The
model runs as a ``tf.function`` with a batch-polymorphic input signature (traced once, no retracing) in the
batcher's own worker thread, never on the event loop. TensorFlow places it on a GPU when it sees one.
"""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf


@dataclass
class _Job:
    items: np.ndarray
    future: asyncio.Future
    queued_at: float = field(default_factory=time.perf_counter)


class Batcher:
    """Collects items from concurrent ``submit`` calls and runs them together through the model."""

    def __init__(self, model, name: str, max_batch: int = 64, max_wait_ms: float = 3.0) -> None:
        self.name = name
        self.input_shape = tuple(int(d) for d in model.input_shape[1:])
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        spec = tf.TensorSpec((None, *self.input_shape), tf.float32)
        self._call = tf.function(lambda x: model(x, training=False), input_signature=[spec])
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"batcher-{name}")
        self._queue: asyncio.Queue[_Job] | None = None
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.calls = 0
        self.items = 0

    def run_sync(self, batch: np.ndarray) -> np.ndarray:
        """Run one compiled call on a float32 batch, chunked at ``max_batch`` (blocking: worker thread)."""
        outs = [
            self._call(tf.constant(batch[i : i + self.max_batch], dtype=tf.float32)).numpy()
            for i in range(0, len(batch), self.max_batch)
        ]
        self.calls += len(outs)
        self.items += len(batch)
        return np.concatenate(outs, axis=0)

    def warm_up(self) -> None:
        """Trace the compiled function once so the first request does not pay for it (blocking)."""
        self.run_sync(np.zeros((1, *self.input_shape), np.float32))
        self.calls = self.items = 0

    async def submit(self, item: np.ndarray) -> np.ndarray:
        """One item of ``input_shape`` -> its output row (class probabilities)."""
        return (await self.submit_many(item[None]))[0]

    async def submit_many(self, items: np.ndarray) -> np.ndarray:
        """Items of shape ``(n, *input_shape)`` -> outputs ``(n, classes)``; n may exceed ``max_batch``."""
        items = np.asarray(items, dtype=np.float32)
        if items.shape[1:] != self.input_shape:
            raise ValueError(f"{self.name}: items must have shape {self.input_shape}, not {items.shape[1:]}")
        if len(items) == 0:
            return np.zeros((0, 0), np.float32)
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self._queue = asyncio.Queue()
            self._task = loop.create_task(self._collect(), name=f"batcher-{self.name}")
        job = _Job(items, loop.create_future())
        self._queue.put_nowait(job)
        return await job.future

    async def _collect(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self._queue.get()]
            size = len(jobs[0].items)
            deadline = jobs[0].queued_at + self.max_wait
            while size < self.max_batch:
                timeout = deadline - time.perf_counter()
                try:
                    if timeout <= 0:
                        job = self._queue.get_nowait()
                    else:  # not asyncio.wait_for: on Python 3.11 it can lose a cancellation
                        async with asyncio.timeout(timeout):
                            job = await self._queue.get()
                except (asyncio.QueueEmpty, TimeoutError):
                    break
                jobs.append(job)
                size += len(job.items)
            batch = np.concatenate([j.items for j in jobs], axis=0)
            try:
                out = await loop.run_in_executor(self._executor, self.run_sync, batch)
            except Exception as exc:  # noqa: BLE001 - hand the failure to every waiting request
                for j in jobs:
                    if not j.future.done():
                        j.future.set_exception(exc)
                continue
            start = 0
            for j in jobs:
                if not j.future.done():
                    j.future.set_result(out[start : start + len(j.items)])
                start += len(j.items)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
