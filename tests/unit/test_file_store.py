"""FileStore: content-addressed, atomic, idempotent; digests cannot name other paths."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from visavis.errors import VisavisError
from visavis.storage.files import FileStore


async def test_put_files_by_sha256_and_get_returns_the_bytes(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    data = b"%PDF-1.7 hello"
    digest = await store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    path = tmp_path / "files" / digest[:2] / digest[2:4] / digest
    assert store.path_of(digest) == path and path.read_bytes() == data
    assert store.exists(digest)
    assert await store.get(digest) == data


async def test_putting_the_same_bytes_again_or_at_once_leaves_one_file(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    data = bytes(range(256)) * 1000
    digests = await asyncio.gather(*(store.put(data) for _ in range(8)))
    assert len(set(digests)) == 1
    assert await store.put(data) == digests[0]
    folder = store.path_of(digests[0]).parent
    assert list(folder.iterdir()) == [store.path_of(digests[0])]  # no temp files left behind


async def test_a_missing_file_is_file_missing(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    digest = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(digest)
    with pytest.raises(VisavisError) as info:
        await store.get(digest)
    assert info.value.code == "file_missing" and digest in info.value.message


async def test_delete_removes_the_file_and_may_be_repeated(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    digest = await store.put(b"short-lived")
    await store.delete(digest)
    assert not store.exists(digest)
    await store.delete(digest)
    with pytest.raises(VisavisError):
        await store.get(digest)


@pytest.mark.parametrize(
    "digest",
    ["../../../etc/passwd", "A" * 64, "0" * 63, "0" * 65, "", "/" + "0" * 63],
)
async def test_only_hex_digests_name_files(tmp_path: Path, digest: str) -> None:
    store = FileStore(tmp_path / "files")
    (tmp_path / "secret").write_bytes(b"not yours")
    with pytest.raises(VisavisError) as info:
        await store.get(digest)
    assert info.value.code == "file_missing"
    with pytest.raises(VisavisError):
        await store.delete(digest)
    assert (tmp_path / "secret").exists()


async def test_a_failed_write_leaves_no_temp_file(tmp_path: Path) -> None:
    """The final rename fails (a directory stands where the file goes): the put raises
    and the temp file it wrote is gone."""
    store = FileStore(tmp_path)
    data = b"x" * 10_000
    target = store.path_of(hashlib.sha256(data).hexdigest())
    target.mkdir(parents=True)
    with pytest.raises(IsADirectoryError):
        await store.put(data)
    assert list(target.parent.iterdir()) == [target]
