"""privacy/zipstream.py: a zip written in a thread, read as it is written, with the
writer held back by a slow reader and stopped by a reader that went away."""

from __future__ import annotations

import asyncio
import io
import os
import threading
import zipfile
from collections.abc import Callable
from typing import IO

import pytest

from visavis.privacy.zipstream import CHUNK, IN_FLIGHT, ZipStream

pytestmark = pytest.mark.asyncio


def _big_zip(
    entries: int, written: list[int], ahead: threading.Event | None = None
) -> tuple[dict[str, bytes], Callable[[IO[bytes]], None]]:
    """Incompressible entries of one chunk each; `written` counts entries written,
    `ahead` is set once IN_FLIGHT are."""
    files = {f"f{i}.bin": os.urandom(CHUNK) for i in range(entries)}

    def write(out: IO[bytes]) -> None:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(name, data)
                written.append(1)
                if ahead is not None and len(written) >= IN_FLIGHT:
                    ahead.set()

    return files, write


async def test_the_zip_read_from_the_stream_is_whole_and_valid() -> None:
    written: list[int] = []
    files, write = _big_zip(6, written)
    stream = ZipStream(write)
    data = b"".join([c async for c in stream.chunks()])
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    assert {n: archive.read(n) for n in archive.namelist()} == files
    assert stream.most_in_flight <= IN_FLIGHT


async def test_a_reader_that_stops_taking_holds_the_writer_back() -> None:
    written: list[int] = []
    ahead = threading.Event()
    _, write = _big_zip(40, written, ahead)
    stream = ZipStream(write)
    chunks = stream.chunks()
    await anext(chunks)
    # the writer runs ahead by IN_FLIGHT chunks (and one entry being written), no more
    await asyncio.to_thread(ahead.wait)
    await asyncio.sleep(0.3)  # what it would write meanwhile if nothing held it back
    assert len(written) <= IN_FLIGHT + 2 < 40
    await chunks.aclose()
    assert stream.writer is not None
    await stream.writer  # the thread ends once the reader is gone
    assert len(written) < 40


async def test_the_writers_error_reaches_the_reader() -> None:
    def write(out: IO[bytes]) -> None:
        out.write(os.urandom(CHUNK + 1))
        raise ValueError("disk on fire")

    stream = ZipStream(write)
    chunks = stream.chunks()
    assert len(await anext(chunks)) == CHUNK + 1
    with pytest.raises(ValueError, match="disk on fire"):
        await anext(chunks)
