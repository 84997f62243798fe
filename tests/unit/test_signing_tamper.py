"""One changed byte anywhere in a sealed file makes it invalid: in the signed range,
in the signature value, in the zero padding of /Contents (which pyHanko's standard
validation does not see), or bytes appended after the end."""

from __future__ import annotations

import io

import pytest
from asn1crypto import cms
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sample_files import pdf
from signing_samples import audit, mark

from visavis.signing.keys import SealKeys, load_or_create_seal_keys, seal_certificate_pem
from visavis.signing.seal import do_sign
from visavis.signing.verify import check_contents_padding, check_signed_pdf

ORIGINAL = pdf(pages=2)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> SealKeys:
    return load_or_create_seal_keys(tmp_path_factory.mktemp("keys"), "Musterbank eG")


@pytest.fixture(scope="module")
def sealed(keys: SealKeys) -> bytes:
    return do_sign(ORIGINAL, [mark()], audit(ORIGINAL), keys)


def regions(data: bytes) -> tuple[range, range, range, range]:
    """(signed part 1, signature hex, zero padding hex, signed part 2) as offsets."""
    sig = PdfFileReader(io.BytesIO(data)).embedded_signatures[-1]
    _, a, b, c = (int(v) for v in sig.byte_range)
    hexdigits = data[a + 1 : b - 1]
    # the blob's own DER length, not "up to the trailing zeros": a signature may end
    # in a zero byte, which would put the guessed padding inside the signature
    used = 2 * len(cms.ContentInfo.load(bytes.fromhex(hexdigits.decode()), strict=False).dump())
    return range(0, a), range(a + 1, a + 1 + used), range(a + 1 + used, b - 1), range(b, b + c)


def sample(r: range, count: int) -> list[int]:
    step = max(1, len(r) // count)
    return [*list(r[::step])[:count], r[-1]]


def changed(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    old = out[offset]
    if chr(old) in "0123456789abcdefABCDEF" and offset > 0:
        # a hex digit stays a hex digit: the file still parses, only the value differs
        out[offset] = ord("1") if old != ord("1") else ord("2")
    else:
        out[offset] = old ^ 0x01
    return bytes(out)


def pyhanko_bottom_line(data: bytes, keys: SealKeys) -> bool:
    roots = load_certs_from_pemder_data(seal_certificate_pem(keys))
    sig = PdfFileReader(io.BytesIO(data)).embedded_signatures[-1]
    context = ValidationContext(trust_roots=list(roots), allow_fetching=False)
    return bool(validate_pdf_signature(sig, context).bottom_line)


def test_the_untouched_file_is_valid(keys: SealKeys, sealed: bytes) -> None:
    assert check_signed_pdf(sealed, [seal_certificate_pem(keys)]).reason == "ok"
    first, _, padding, _ = regions(sealed)
    assert len(padding) > 1000, "pyHanko reserves room; the test needs some padding"
    assert check_contents_padding(sealed, [0, first.stop, padding.stop + 1, 0])


def test_one_changed_byte_in_the_signed_range_is_invalid(keys: SealKeys, sealed: bytes) -> None:
    first, _, _, second = regions(sealed)
    offsets = sample(first, 40) + sample(second, 15)
    for offset in offsets:
        report = check_signed_pdf(changed(sealed, offset), [seal_certificate_pem(keys)])
        assert not report.valid, offset
        assert report.reason in ("modified", "malformed"), (offset, report.reason)


def test_one_changed_byte_in_the_signature_value_is_invalid(keys: SealKeys, sealed: bytes) -> None:
    _, value, _, _ = regions(sealed)
    for offset in sample(value, 30):
        report = check_signed_pdf(changed(sealed, offset), [seal_certificate_pem(keys)])
        assert not report.valid, offset
        assert report.reason in ("modified", "malformed", "untrusted"), (offset, report.reason)


def test_one_changed_byte_in_the_zero_padding_is_invalid(keys: SealKeys, sealed: bytes) -> None:
    _, _, padding, _ = regions(sealed)
    for offset in sample(padding, 20):
        tampered = changed(sealed, offset)
        report = check_signed_pdf(tampered, [seal_certificate_pem(keys)])
        assert (report.valid, report.reason) == (False, "padding_changed"), offset
    # why the own check exists: standard validation calls this file valid
    assert pyhanko_bottom_line(changed(sealed, padding[len(padding) // 2]), keys)


@pytest.mark.parametrize("junk", [b"\n", b"%%EOF\n", b"\n1 0 obj\n<< >>\nendobj\n", b"\x00" * 4096])
def test_bytes_appended_after_the_seal_are_invalid(
    keys: SealKeys, sealed: bytes, junk: bytes
) -> None:
    report = check_signed_pdf(sealed + junk, [seal_certificate_pem(keys)])
    assert not report.valid
    # (a second %%EOF or a run of NULs is more than pyHanko's reader takes: malformed)
    assert report.reason in ("appended", "malformed"), report.reason
    assert check_signed_pdf(sealed + b"\n", [seal_certificate_pem(keys)]).reason == "appended"


def test_an_incremental_update_after_the_seal_is_invalid(keys: SealKeys, sealed: bytes) -> None:
    """A new page content appended as a proper incremental update (what an editor does)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 100 Td (PAID) Tj ET")
    page["/Contents"] = writer.add_object(stream)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    report = check_signed_pdf(out.getvalue(), [seal_certificate_pem(keys)])
    assert not report.valid
    assert report.reason in ("appended", "modified"), report.reason


def test_garbage_and_unsigned_files(keys: SealKeys) -> None:
    trust = [seal_certificate_pem(keys)]
    assert check_signed_pdf(ORIGINAL, trust).reason == "not_signed"
    assert check_signed_pdf(b"", trust).reason == "malformed"
    assert check_signed_pdf(b"%PDF-1.7\n" + b"\xff" * 1000, trust).reason == "malformed"
    assert check_signed_pdf(b"<html>hello</html>", trust).reason == "malformed"
