"""Files at rest: AES-256-GCM with a key from the data directory or VISAVIS_FILE_KEY;
no plaintext on disk, old plaintext files still readable, rotation re-encrypts."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
import sample_files
from zygote import run_visavis

from visavis.documents.render import PageRenderer
from visavis.errors import VisavisError
from visavis.storage.files import FileStore, digest_of, key_id_of
from visavis.storage.keys import FileKeyError, FileKeys, key_id, new_key_text

SECRET = b"Kontonummer DE02 1203 0000 0000 2020 51 - streng vertraulich " * 50


def keyed(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "files", FileKeys(key_file=tmp_path / "keys" / "files.key"))


async def test_the_bytes_on_disk_are_not_the_plaintext(tmp_path: Path) -> None:
    store = keyed(tmp_path)
    digest = await store.put(SECRET)
    on_disk = store.path_of(digest).read_bytes()
    assert digest == digest_of(SECRET)  # the digest is of the plaintext
    assert b"Kontonummer" not in on_disk and b"DE02" not in on_disk
    assert len(on_disk) == len(SECRET) + 7 + 8 + 12 + 16
    assert await store.get(digest) == SECRET
    key_file = tmp_path / "keys" / "files.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


async def test_a_file_under_another_name_or_changed_is_refused(tmp_path: Path) -> None:
    store = keyed(tmp_path)
    a = await store.put(b"first file")
    b = await store.put(b"second file")
    store.path_of(b).write_bytes(store.path_of(a).read_bytes())  # swapped in
    with pytest.raises(VisavisError) as info:
        await store.get(b)
    assert info.value.code == "file_missing"
    blob = bytearray(store.path_of(a).read_bytes())
    blob[-1] ^= 1
    store.path_of(a).write_bytes(bytes(blob))
    with pytest.raises(VisavisError):
        await store.get(a)


async def test_plaintext_files_stay_readable_and_rotation_encrypts_them(tmp_path: Path) -> None:
    plain = FileStore(tmp_path / "files")  # as stored before encryption at rest
    old = await plain.put(SECRET)
    store = keyed(tmp_path)
    assert await store.get(old) == SECRET
    new = await store.put(b"new upload " * 10)
    first_key = store.keys.current_id if store.keys else b""
    assert key_id_of(store.path_of(new).read_bytes()) == first_key

    # rotate: a new key first, everything re-encrypted, then the old key dropped
    key_file = tmp_path / "keys" / "files.key"
    from visavis.storage.keys import parse_keys, write_key_file

    assert store.keys is not None
    write_key_file(key_file, [*parse_keys(new_key_text(), "t"), *store.keys.keys()])
    done = await store.do_rotate()
    assert (done.rewritten, done.current) == (2, 0)
    again = await store.do_rotate()
    assert (again.rewritten, again.current) == (0, 2)
    write_key_file(key_file, [store.keys.current])
    assert store.keys.ids() == [store.keys.current_id] != [first_key]
    for digest, data in ((old, SECRET), (new, b"new upload " * 10)):
        blob = store.path_of(digest).read_bytes()
        assert key_id_of(blob) == store.keys.current_id and b"Kontonummer" not in blob
        assert await store.get(digest) == data


async def test_a_file_under_a_key_no_longer_in_the_ring_is_named(tmp_path: Path) -> None:
    store = keyed(tmp_path)
    digest = await store.put(b"x" * 100)
    other = FileStore(tmp_path / "files", FileKeys(new_key_text()))
    with pytest.raises(VisavisError, match="not in the key ring"):
        await other.get(digest)


def test_the_key_from_the_environment(tmp_path: Path) -> None:
    k1, k2 = new_key_text(), new_key_text()
    keys = FileKeys(f"{k1}, {k2}", tmp_path / "unused.key")
    assert keys.current == base64.b64decode(k1)
    assert keys.ids() == [key_id(base64.b64decode(k1)), key_id(base64.b64decode(k2))]
    assert not (tmp_path / "unused.key").exists()
    with pytest.raises(FileKeyError, match="has 5 bytes; expected 32"):
        FileKeys(base64.b64encode(b"short").decode())
    with pytest.raises(FileKeyError, match="not base64"):
        FileKeys("!!!!")


async def test_rendered_pages_are_cached_encrypted(tmp_path: Path) -> None:
    store = keyed(tmp_path)
    digest = await store.put(sample_files.pdf(pages=1))
    renderer = PageRenderer(store, tmp_path / "cache")
    jpeg = await renderer.page_jpeg(digest, "pdf", 0, 480)
    cached = renderer.cache_path(digest, 0, 480).read_bytes()
    assert jpeg.startswith(b"\xff\xd8") and not cached.startswith(b"\xff\xd8")
    assert jpeg not in cached
    assert await renderer.page_jpeg(digest, "pdf", 0, 480) == jpeg  # from the cache


def test_visavis_keys_rotate(tmp_path: Path) -> None:
    """The command: a fresh key, every file under it, the old key gone from the file."""
    env = {**os.environ, "VISAVIS_DATA_DIR": str(tmp_path)}
    for name in ("VISAVIS_DATABASE_URL", "VISAVIS_FILE_KEY"):
        env.pop(name, None)
    store = FileStore(tmp_path / "files", FileKeys(key_file=tmp_path / "keys" / "files.key"))
    import asyncio

    digest = asyncio.run(store.put(SECRET))
    before = (tmp_path / "keys" / "files.key").read_text()
    out = run_visavis(["keys", "rotate"], env)
    assert out.returncode == 0, out.stderr
    assert '"rewritten": 1' in out.stdout and "old keys removed" in out.stdout
    after = (tmp_path / "keys" / "files.key").read_text()
    assert after != before and after.count("\n") == 1
    fresh = FileStore(tmp_path / "files", FileKeys(key_file=tmp_path / "keys" / "files.key"))
    assert asyncio.run(fresh.get(digest)) == SECRET
