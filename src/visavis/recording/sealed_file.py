"""Recordings encrypted at rest: AES-256-GCM in chunks, so playback can seek.

A sealed file is a header (magic, chunk size, 8 random nonce bytes) and the
plaintext's chunks of `CHUNK` bytes, each sealed on its own with the nonce
`prefix + index` and the header, the index and a last-chunk flag as associated data:
a chunk cannot be moved, dropped from the end or swapped with another file's. A range
read (HTTP Range, the console's <video> seeking) decrypts only the chunks it touches.

Kept as one small module with no other duties, so that it can be unified with the
general encryption at rest of stored files.
"""

from __future__ import annotations

import base64
import os
import secrets
import struct
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"VVREC1\n"
CHUNK = 1 << 20
TAG = 16
_HEADER = struct.Struct(">7sI8s")  # magic, chunk size, nonce prefix
HEADER_SIZE = _HEADER.size


class SealedFileError(ValueError):
    """A sealed file is damaged, truncated or sealed with another key."""


def key_from(env_value: str, key_file: Path) -> bytes:
    """The 32-byte key: base64 from the setting if given, else the key file in the data
    directory (made with mode 0600 on first use)."""
    if env_value:
        key = base64.b64decode(env_value, validate=True)
        if len(key) != 32:
            raise ValueError("VISAVIS_RECORDING_KEY must be 32 bytes, base64-encoded")
        return key
    try:
        key = key_file.read_bytes()
    except FileNotFoundError:
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = secrets.token_bytes(32)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key)
    if len(key) != 32:
        raise ValueError(f"{key_file}: a recording key is 32 bytes, found {len(key)}")
    return key


def _aad(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">I?", index, last)


def do_seal(src: Path, dst: Path, key: bytes) -> int:
    """Encrypt `src` into `dst` (written beside it, then renamed); the plaintext size."""
    prefix = secrets.token_bytes(8)
    header = _HEADER.pack(MAGIC, CHUNK, prefix)
    gcm = AESGCM(key)
    size = src.stat().st_size
    count = max(1, -(-size // CHUNK))
    tmp = dst.with_name(dst.name + ".part")
    with src.open("rb") as inp, tmp.open("wb") as out:
        out.write(header)
        for index in range(count):
            plain = inp.read(CHUNK)
            nonce = prefix + struct.pack(">I", index)
            out.write(gcm.encrypt(nonce, plain, _aad(header, index, index == count - 1)))
    tmp.replace(dst)
    return size


def plain_size(path: Path) -> int:
    total = path.stat().st_size - HEADER_SIZE
    full, rest = divmod(total, CHUNK + TAG)
    if (rest and rest < TAG) or (not rest and full == 0):
        raise SealedFileError(f"{path.name}: {total} bytes after the header is no sealed file")
    return full * CHUNK + (rest - TAG if rest else 0)


def read_range(path: Path, key: bytes, start: int, end: int) -> Iterator[bytes]:
    """The plaintext bytes [start, end) chunk by chunk, each chunk checked."""
    size = plain_size(path)
    end = min(end, size)
    if start >= end:
        return
    gcm = AESGCM(key)
    count = max(1, -(-size // CHUNK))
    with path.open("rb") as inp:
        header = inp.read(HEADER_SIZE)
        magic, chunk, prefix = _HEADER.unpack(header)
        if magic != MAGIC or chunk != CHUNK:
            raise SealedFileError(f"{path.name}: not a sealed recording (magic {magic!r})")
        for index in range(start // CHUNK, (end - 1) // CHUNK + 1):
            inp.seek(HEADER_SIZE + index * (CHUNK + TAG))
            sealed = inp.read(CHUNK + TAG)
            nonce = prefix + struct.pack(">I", index)
            try:
                plain = gcm.decrypt(nonce, sealed, _aad(header, index, index == count - 1))
            except Exception as err:  # InvalidTag: wrong key or changed bytes
                raise SealedFileError(f"{path.name}: chunk {index} fails its check") from err
            base = index * CHUNK
            yield plain[max(0, start - base) : min(len(plain), end - base)]


__all__ = ["SealedFileError", "do_seal", "key_from", "plain_size", "read_range"]
