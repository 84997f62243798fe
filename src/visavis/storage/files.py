"""Uploaded files on disk, addressed by the SHA-256 of their bytes.

A file lives at `<root>/ab/cd/<digest>` (`root` is `<data_dir>/files`): the two levels
keep any one directory small. Writing is a temp file in the target directory, fsync,
then `os.replace`, so a reader sees the whole file or none, and putting the same bytes
twice (or twice at once) leaves one file. The store is content only: which
conversation or library entry a file belongs to is in the database, which also decides
when a file is deleted. Disk work runs in `asyncio.to_thread` so a 25 MB write does
not stall the event loop.

Encrypted at rest when the store has keys (`keys.py`; the server always gives it
some): a file is `MAGIC`, the 8-byte id of its key, a 12-byte random nonce, then the
AES-256-GCM ciphertext and tag of the whole file, with the header and the digest as
associated data (a file cannot be passed off under another name). The digest stays
the SHA-256 of the plaintext, so a document's hash means what it always meant. A file
without the header is read as it is: files stored before encryption stay readable
until `visavis keys rotate` (`do_rotate`) encrypts them. Whole-file GCM, not chunks:
files are at most the upload limit (25 MB), read whole for rendering anyway, and a
range request (video seeking) decrypts the file and serves the slice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from visavis.errors import VisavisError
from visavis.storage.keys import KEY_ID_BYTES, FileKeys

_DIGEST = re.compile(r"[0-9a-f]{64}")
MAGIC = b"VVENC1\n"
NONCE_BYTES = 12
HEADER_BYTES = len(MAGIC) + KEY_ID_BYTES + NONCE_BYTES


def is_sealed(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


def key_id_of(blob: bytes) -> bytes | None:
    """The id of the key a stored file is encrypted with; None for plaintext."""
    return blob[len(MAGIC) : len(MAGIC) + KEY_ID_BYTES] if is_sealed(blob) else None


def seal(keys: FileKeys, data: bytes, label: str) -> bytes:
    """`data` encrypted with the current key; `label` (the digest, a cache path) is
    bound to it as associated data."""
    kid = keys.current_id
    header = MAGIC + kid + os.urandom(NONCE_BYTES)
    aad = header + label.encode()
    return header + AESGCM(keys.current).encrypt(header[-NONCE_BYTES:], data, aad)


def unseal(keys: FileKeys | None, blob: bytes, label: str) -> bytes:
    """The plaintext of a stored blob (a blob without the header is plaintext)."""
    if not is_sealed(blob):
        return blob
    kid = key_id_of(blob)
    key = keys.get(kid) if keys is not None and kid is not None else None
    if key is None:
        raise VisavisError(
            "file_missing",
            f"{label}: encrypted with key {kid.hex() if kid else '?'}, which is not in the key "
            "ring (VISAVIS_FILE_KEY or keys/files.key)",
        )
    header = blob[:HEADER_BYTES]
    try:
        return AESGCM(key).decrypt(
            header[-NONCE_BYTES:], blob[HEADER_BYTES:], header + label.encode()
        )
    except InvalidTag:
        raise VisavisError("file_missing", f"{label}: damaged or not this file (GCM tag)") from None


@dataclass
class Rotation:
    rewritten: int = 0  # plaintext or under an old key before, now under the current key
    current: int = 0  # already under the current key


def digest_of(data: bytes) -> str:
    """The SHA-256 hex digest the store files `data` under."""
    return hashlib.sha256(data).hexdigest()


def check_digest(digest: str) -> None:
    """A digest is 64 lower-case hex digits; anything else could name a path outside
    the store (`../`), so it is refused as a missing file."""
    if not _DIGEST.fullmatch(digest):
        raise VisavisError("file_missing", f"{digest[:80]!r} is not a SHA-256 hex digest")


class FileStore:
    """Content-addressed files under `root` (created on first write); encrypted with
    `keys` (None: stored as they are, for tests of other parts and tools)."""

    def __init__(self, root: Path | str, keys: FileKeys | None = None) -> None:
        self.root = Path(root)
        self.keys = keys

    def path_of(self, digest: str) -> Path:
        """Where the file with this digest is (or would be). Its bytes may be
        encrypted: read them with `get`."""
        check_digest(digest)
        return self.root / digest[:2] / digest[2:4] / digest

    def exists(self, digest: str) -> bool:
        return self.path_of(digest).is_file()

    async def put(self, data: bytes) -> str:
        """Store `data`; return its digest. Idempotent."""
        return await asyncio.to_thread(self._put, data)

    async def get(self, digest: str) -> bytes:
        """The file's bytes; `file_missing` if it is not stored."""
        return await asyncio.to_thread(self.read, digest)

    def read(self, digest: str) -> bytes:
        """`get`, blocking (for work already in a thread)."""
        path = self.path_of(digest)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise VisavisError("file_missing", f"file {digest} is not in the store") from None
        return unseal(self.keys, blob, digest)

    def seal(self, data: bytes, label: str) -> bytes:
        """For other files kept beside the store (the page cache): encrypted as stored
        files are, or as they are without keys."""
        return seal(self.keys, data, label) if self.keys is not None else data

    def unseal(self, blob: bytes, label: str) -> bytes:
        return unseal(self.keys, blob, label)

    def digests(self) -> Iterator[str]:
        """Every stored file's digest."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("??/??/*"):
            if _DIGEST.fullmatch(path.name) and path.is_file():
                yield path.name

    async def do_rotate(self) -> Rotation:
        """Re-encrypt every file that is plaintext or under another key than the
        current one (each an atomic replace, so a reader sees the old or the new)."""
        return await asyncio.to_thread(self._rotate)

    def _rotate(self) -> Rotation:
        if self.keys is None:
            raise ValueError("a store without keys cannot rotate")
        done = Rotation()
        current = self.keys.current_id
        for digest in list(self.digests()):
            path = self.path_of(digest)
            try:
                blob = path.read_bytes()
            except FileNotFoundError:
                continue  # deleted meanwhile
            if key_id_of(blob) == current:
                done.current += 1
                continue
            data = unseal(self.keys, blob, digest)
            if digest_of(data) != digest:
                raise VisavisError("file_missing", f"file {digest}: its content does not match")
            write_atomically(path, seal(self.keys, data, digest))
            done.rewritten += 1
        return done

    async def delete(self, digest: str) -> None:
        """Remove the file; a file already gone is fine (deleting twice is not an error)."""
        await asyncio.to_thread(self.path_of(digest).unlink, True)

    def _put(self, data: bytes) -> str:
        digest = digest_of(data)
        path = self.path_of(digest)
        if path.is_file():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, self.seal(data, digest))
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
