"""The library speed-ups of `visavis.signing.lib_speedups` give what the libraries' own
code gives, and are in place for the versions installed."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any, cast

import pytest
from asn1crypto import cms, core
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfStreamError
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from signing_samples import NOW

from visavis.signing import lib_speedups
from visavis.signing.keys import SealKeys, load_or_create_seal_keys

# pyHanko's helper, untyped there
_attribute = cast(Callable[[str, object], cms.CMSAttribute], simple_cms_attribute)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> SealKeys:
    return load_or_create_seal_keys(tmp_path_factory.mktemp("keys"), "Musterbank eG")


def test_both_are_installed_for_the_library_versions_here() -> None:
    # False here means asn1crypto or pyHanko changed: check whether the new version
    # still needs the speed-up (see lib_speedups) and update or drop it
    assert lib_speedups.do_install_speedups() == (True, True)
    assert core.Asn1Value.dump is not lib_speedups.ORIGINAL_DUMP
    assert generic.read_hex_string_from_stream is lib_speedups.read_hex_string


def signed_data(keys: SealKeys) -> cms.ContentInfo:
    """A SignedData built from Python values, nested as pyHanko builds a seal's."""
    cert = keys.certificate
    attrs = cms.CMSAttributes(
        [
            _attribute("content_type", "data"),
            _attribute("message_digest", b"\x01" * 32),
            _attribute("signing_certificate_v2", as_signing_certificate_v2(cert)),
        ]
    )
    info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": cert.issuer, "serial_number": cert.serial_number}
                    )
                }
            ),
            "digest_algorithm": {"algorithm": "sha256"},
            "signature_algorithm": {"algorithm": "sha256_ecdsa"},
            "signed_attrs": attrs,
            "signature": b"\x02" * 72,
        }
    )
    return cms.ContentInfo(
        {
            "content_type": "signed_data",
            "content": cms.SignedData(
                {
                    "version": "v1",
                    "digest_algorithms": [{"algorithm": "sha256"}],
                    "encap_content_info": {"content_type": "data"},
                    "certificates": [cms.CertificateChoices(name="certificate", value=cert)],
                    "signer_infos": [info],
                }
            ),
        }
    )


@pytest.fixture
def encodings(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[..., bytes], SealKeys], int]:
    """How many times parts are encoded while pyHanko builds (and dumps) a seal's CMS
    signature with a given `Asn1Value.dump`."""
    calls = 0
    originals = {cls: cls._set_contents for cls in (core.Sequence, core.SequenceOf)}

    def counting(cls: type) -> Callable[..., None]:
        def set_contents(self: Any, force: bool = False) -> None:
            nonlocal calls
            calls += 1
            originals[cls](self, force)

        return set_contents

    for cls in originals:
        monkeypatch.setattr(cls, "_set_contents", counting(cls))

    def count(dump: Callable[..., bytes], keys: SealKeys) -> int:
        nonlocal calls
        monkeypatch.setattr(core.Asn1Value, "dump", dump)
        calls = 0
        built = asyncio.run(keys.signer.async_sign(b"\0" * 32, "sha256", use_pades=True))
        built.dump()
        monkeypatch.setattr(core.Asn1Value, "dump", lib_speedups._dump_once)
        return calls

    return count


def test_a_built_signed_data_dumps_to_the_same_bytes(keys: SealKeys) -> None:
    def build() -> cms.ContentInfo:
        value = signed_data(keys)
        # changed after it was built, as pyHanko adds the timestamp token
        value["content"]["signer_infos"][0]["unsigned_attrs"] = cms.CMSAttributes(
            [_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(NOW)}))]
        )
        return value

    patched = build().dump()
    original = lib_speedups.ORIGINAL_DUMP(build())
    assert patched == original
    # and parsed back, it is what was built
    parsed = cms.ContentInfo.load(patched)
    assert parsed["content"]["signer_infos"][0]["signature"].native == b"\x02" * 72
    assert parsed.dump(force=True) == patched


def test_each_part_is_encoded_about_once(
    keys: SealKeys, encodings: Callable[[Callable[..., bytes], SealKeys], int]
) -> None:
    once = encodings(lib_speedups._dump_once, keys)
    repeated = encodings(lib_speedups.ORIGINAL_DUMP, keys)
    # ~100 here; asn1crypto 1.5.1's own dump: ~2,000 (doubling with each level)
    assert once < 200
    assert repeated > 10 * once


HEX_CASES = [
    b"<>",
    b"<48656c6c6f>",
    b"<48656C6C6F> rest",
    b"<4 8\n65\r6c\t6c\x0c6f\x00>",
    b"<486>",  # an odd digit count: the last is padded with 0
    b"<feff00480069>",  # UTF-16 with a byte order mark: a text string
    b"<48 % a comment\n65>",
    b"<48zz>",
    b"<4865",  # no end
    b"<" + b"3a" * 70_000 + b">after",  # longer than one read
    b"<" + b"3a" * 40_000 + b"%" + b"3a" * 40_000 + b">",
]


def read_with(reader: Callable[[Any], Any], data: bytes) -> tuple[object, ...]:
    """What `reader` makes of `data` (after two other bytes): the value's type, the
    value, its guessed encoding and where the stream is left; or the error."""
    stream = io.BytesIO(b"xx" + data)
    stream.seek(2)
    try:
        value = reader(stream)
    except PdfStreamError as exc:
        return ("error", type(exc))
    plain = str(value) if isinstance(value, str) else bytes(value)
    encoding = getattr(value, "autodetected_encoding", None)
    return (type(value).__name__, plain, encoding, stream.tell())


@pytest.mark.parametrize("data", HEX_CASES, ids=lambda d: d[:14].decode("latin-1"))
def test_hex_strings_read_as_pyhanko_reads_them(data: bytes) -> None:
    mine = read_with(lib_speedups.read_hex_string, data)
    theirs = read_with(lib_speedups.ORIGINAL_READ_HEX, data)
    assert mine == theirs
