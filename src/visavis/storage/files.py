"""Uploaded files on disk, addressed by the SHA-256 of their bytes.

A file lives at `<root>/ab/cd/<digest>` (`root` is `<data_dir>/files`): the two levels
keep any one directory small. Writing is a temp file in the target directory, fsync,
then `os.replace`, so a reader sees the whole file or none, and putting the same bytes
twice (or twice at once) leaves one file. The store is content only: which
conversation or library entry a file belongs to is in the database, which also decides
when a file is deleted. Disk work runs in `asyncio.to_thread` so a 25 MB write does
not stall the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path

from visavis.errors import VisavisError

_DIGEST = re.compile(r"[0-9a-f]{64}")


def digest_of(data: bytes) -> str:
    """The SHA-256 hex digest the store files `data` under."""
    return hashlib.sha256(data).hexdigest()


def check_digest(digest: str) -> None:
    """A digest is 64 lower-case hex digits; anything else could name a path outside
    the store (`../`), so it is refused as a missing file."""
    if not _DIGEST.fullmatch(digest):
        raise VisavisError("file_missing", f"{digest[:80]!r} is not a SHA-256 hex digest")


class FileStore:
    """Content-addressed files under `root` (created on first write)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path_of(self, digest: str) -> Path:
        """Where the file with this digest is (or would be); for streaming responses
        (HTTP Range on videos) that read the file themselves."""
        check_digest(digest)
        return self.root / digest[:2] / digest[2:4] / digest

    def exists(self, digest: str) -> bool:
        return self.path_of(digest).is_file()

    async def put(self, data: bytes) -> str:
        """Store `data`; return its digest. Idempotent."""
        return await asyncio.to_thread(self._put, data)

    async def get(self, digest: str) -> bytes:
        """The file's bytes; `file_missing` if it is not stored."""
        path = self.path_of(digest)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise VisavisError("file_missing", f"file {digest} is not in the store") from None

    async def delete(self, digest: str) -> None:
        """Remove the file; a file already gone is fine (deleting twice is not an error)."""
        await asyncio.to_thread(self.path_of(digest).unlink, True)

    def _put(self, data: bytes) -> str:
        digest = digest_of(data)
        path = self.path_of(digest)
        if path.is_file():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)
        return digest


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that no reader ever sees a partial file: a temp file in
    the same directory (same file system, so the rename is atomic), fsync, rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
