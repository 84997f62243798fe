"""The keys that encrypt stored files at rest (AES-256-GCM, `files.py`).

A key ring: the first key encrypts, every key decrypts. It comes from
VISAVIS_FILE_KEY (base64 keys separated by commas, the current one first) or else
from `<data_dir>/keys/files.key` (one base64 key a line, current first; made with mode
0600 and one random key on first use). A key's id is the first 8 bytes of its
SHA-256 under a label, stored in each file's header, so a file names the key it needs
and `visavis keys rotate` knows which files are still under an old one.

The ring re-reads the key file when it changed (a stat per use), so `keys rotate`
can run beside a serving process: the server writes with the new key and still reads
files under the old one until the rotation has re-encrypted them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from pathlib import Path

KEY_BYTES = 32
KEY_ID_BYTES = 8


class FileKeyError(ValueError):
    """A key setting or key file that cannot be used."""


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"visavis file key\x00" + key).digest()[:KEY_ID_BYTES]


def parse_keys(text: str, where: str) -> list[bytes]:
    keys = []
    for item in text.replace("\n", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            key = base64.b64decode(item, validate=True)
        except binascii.Error:
            raise FileKeyError(f"{where}: {item[:6]}... is not base64") from None
        if len(key) != KEY_BYTES:
            raise FileKeyError(
                f"{where}: a key has {len(key)} bytes; expected {KEY_BYTES} (AES-256)"
            )
        keys.append(key)
    if not keys:
        raise FileKeyError(f"{where}: no key")
    return keys


def new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def write_key_file(path: Path, keys: list[bytes]) -> None:
    """Replace the key file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(base64.b64encode(k).decode() + "\n" for k in keys))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class FileKeys:
    """The key ring. `env_value`: VISAVIS_FILE_KEY (wins when set); `key_file`: the
    data directory's key file (created when neither exists)."""

    def __init__(self, env_value: str = "", key_file: Path | None = None) -> None:
        self.env_value = env_value.strip()
        self.key_file = key_file
        self._stamp: tuple[int, int] | None = None
        self._keys: list[bytes] = []
        self._by_id: dict[bytes, bytes] = {}
        self.refresh()

    @property
    def from_env(self) -> bool:
        return bool(self.env_value)

    @property
    def current(self) -> bytes:
        self.refresh()
        return self._keys[0]

    @property
    def current_id(self) -> bytes:
        return key_id(self.current)

    def ids(self) -> list[bytes]:
        self.refresh()
        return [key_id(k) for k in self._keys]

    def get(self, kid: bytes) -> bytes | None:
        self.refresh()
        return self._by_id.get(kid)

    def refresh(self) -> None:
        if self.env_value:
            if not self._keys:
                self._set(parse_keys(self.env_value, "VISAVIS_FILE_KEY"))
            return
        if self.key_file is None:
            raise FileKeyError("no VISAVIS_FILE_KEY and no key file")
        try:
            st = self.key_file.stat()
        except FileNotFoundError:
            write_key_file(self.key_file, [base64.b64decode(new_key_text())])
            st = self.key_file.stat()
        stamp = (st.st_mtime_ns, st.st_ino)
        if stamp != self._stamp:
            self._set(parse_keys(self.key_file.read_text(), str(self.key_file)))
            self._stamp = stamp

    def _set(self, keys: list[bytes]) -> None:
        self._keys = keys
        self._by_id = {key_id(k): k for k in keys}

    def keys(self) -> list[bytes]:
        self.refresh()
        return list(self._keys)
