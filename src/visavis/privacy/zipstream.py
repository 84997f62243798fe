"""A zip written by blocking code in a thread and handed out as it is written.

An export holds decrypted recordings of many minutes: built in memory it would cost
their size in RAM, built in a temporary file it would put them on disk in plain. Here
the writer thread gives its bytes in chunks of `CHUNK` to the event loop and waits
while `IN_FLIGHT` chunks are not yet taken, so memory stays at about a megabyte
whatever the size, and a slow reader slows the writer down. When the reader stops
(a browser went away, the CLI failed), the writer's next write raises and the thread
ends; nothing keeps running for an export nobody reads.

`zipfile` writes to a stream it cannot seek (it finds no `tell`) with data descriptors
after each entry, which every unzip tool reads.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncGenerator, Callable
from typing import IO, TYPE_CHECKING, cast

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

CHUNK = 256 * 1024
IN_FLIGHT = 4  # chunks written but not yet taken by the reader


class ReaderGone(Exception):
    """Raised in the writer thread when nobody reads the stream any more."""


class _Pipe(io.RawIOBase):
    def __init__(self, hand_over: Callable[[bytes], None]) -> None:
        super().__init__()
        self._hand_over = hand_over
        self._buf = bytearray()

    def writable(self) -> bool:
        return True

    def tell(self) -> int:  # zipfile then writes front to back (data descriptors)
        raise io.UnsupportedOperation("not seekable")

    def write(self, b: ReadableBuffer) -> int:
        view = memoryview(b)
        self._buf += view
        if len(self._buf) >= CHUNK:
            self._hand_over(bytes(self._buf))
            self._buf.clear()
        return view.nbytes

    def flush_rest(self) -> None:
        if self._buf:
            self._hand_over(bytes(self._buf))
            self._buf.clear()


class ZipStream:
    """`write(out)` run in a thread; its output from `chunks()`, in order."""

    def __init__(self, write: Callable[[IO[bytes]], None]) -> None:
        self._write = write
        self.writer: asyncio.Future[None] | None = None  # the thread's end
        self.most_in_flight = 0  # chunks written and not yet taken, at most

    async def chunks(self) -> AsyncGenerator[bytes]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
        slots = threading.Semaphore(IN_FLIGHT)
        gone = threading.Event()

        def hand_over(chunk: bytes) -> None:  # in the thread
            slots.acquire()
            if gone.is_set():
                raise ReaderGone
            loop.call_soon_threadsafe(queue.put_nowait, chunk)

        def produce() -> None:
            pipe = _Pipe(hand_over)
            end: BaseException | None = None
            try:
                self._write(cast("IO[bytes]", pipe))  # a raw stream: what zipfile uses of it
                pipe.flush_rest()
            except ReaderGone:
                return
            except Exception as err:  # handed to the reader, raised there
                end = err
            loop.call_soon_threadsafe(queue.put_nowait, end)

        self.writer = loop.run_in_executor(None, produce)
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                self.most_in_flight = max(self.most_in_flight, queue.qsize() + 1)
                slots.release()
                yield item
        finally:
            # no await here: a cancelled reader must not wait for the thread, which
            # ends at its next write (waiting for a slot or not)
            gone.set()
            slots.release(IN_FLIGHT)


__all__ = ["CHUNK", "IN_FLIGHT", "ReaderGone", "ZipStream"]
