"""What signing refuses (with a stable code) and where it puts things: hostile PDFs and
images, spots off the page, the PDF's own signature fields, rotated pages, long audit
trails, the seal key's files and certificate, a PKCS#12 key."""

from __future__ import annotations

import dataclasses
import io
import stat
from pathlib import Path

import pikepdf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from cryptography.x509.oid import NameOID
from PIL import Image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields as sig_fields
from sample_files import edited_pdf, encrypted_pdf, image, js_action, pdf, png_header_only
from signing_samples import NOW, audit, mark, signature_png

from visavis.documents import pdfium
from visavis.signing.errors import SigningError
from visavis.signing.fields import list_signature_fields
from visavis.signing.keys import (
    CERT_FILE,
    KEY_FILE,
    SealKeys,
    load_or_create_seal_keys,
    seal_certificate_pem,
)
from visavis.signing.model import AuditStep, SignatureMark, SignatureSpot
from visavis.signing.seal import do_sign
from visavis.signing.verify import check_signed_pdf

ORIGINAL = pdf(pages=2)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> SealKeys:
    return load_or_create_seal_keys(tmp_path_factory.mktemp("keys"), "Musterbank eG")


def refused(original: bytes, marks: list[SignatureMark], keys: SealKeys) -> str:
    with pytest.raises(SigningError) as err:
        do_sign(original, marks, audit(original), keys)
    return err.value.code


# ------------------------------------------------------------------ hostile input
def test_hostile_pdfs_are_refused_with_codes(keys: SealKeys) -> None:
    assert refused(encrypted_pdf("geheim", "owner"), [mark()], keys) == "pdf_encrypted"
    assert refused(encrypted_pdf("", "owner"), [mark()], keys) == "pdf_encrypted"
    assert refused(b"%PDF-1.7\n" + b"\x00garbage" * 100, [mark()], keys) == "pdf_malformed"
    with_js = edited_pdf(lambda d: setattr(d.Root, "OpenAction", js_action()))
    assert refused(with_js, [mark()], keys) == "pdf_active_content"
    sealed = do_sign(ORIGINAL, [mark()], audit(ORIGINAL), keys)
    assert refused(sealed, [mark()], keys) == "pdf_already_signed"


def test_bad_signature_images_are_refused_with_codes(keys: SealKeys) -> None:
    def with_png(png: bytes) -> SignatureMark:
        return dataclasses.replace(mark(), image_png=png)

    bomb = png_header_only(100_000, 100_000)  # 10 Gpx claimed by a 100-byte file
    assert refused(ORIGINAL, [with_png(bomb)], keys) == "signature_image_too_large"
    assert refused(ORIGINAL, [with_png(png_header_only(5000, 1000))], keys) == (
        "signature_image_too_large"
    )
    assert refused(ORIGINAL, [with_png(b"\x89PNG\r\n\x1a\n" + b"junk" * 50)], keys) == (
        "signature_image_invalid"
    )
    assert refused(ORIGINAL, [with_png(image("JPEG"))], keys) == "signature_image_invalid"
    assert refused(ORIGINAL, [with_png(b"<svg onload=alert(1)>")], keys) == (
        "signature_image_invalid"
    )
    assert refused(ORIGINAL, [with_png(b"")], keys) == "signature_image_invalid"


@pytest.mark.parametrize(
    "spot",
    [
        SignatureSpot(2, 0.1, 0.1, 0.2, 0.1),  # a third page of two
        SignatureSpot(-1, 0.1, 0.1, 0.2, 0.1),
        SignatureSpot(0, 0.9, 0.1, 0.2, 0.1),  # sticks out on the right
        SignatureSpot(0, 0.1, 0.95, 0.2, 0.1),  # and at the bottom
        SignatureSpot(0, -0.1, 0.1, 0.2, 0.1),
        SignatureSpot(0, 0.1, 0.1, 0.0, 0.1),  # empty
        SignatureSpot(0, 0.1, 0.1, float("nan"), 0.1),
    ],
)
def test_a_spot_outside_the_page_is_refused(keys: SealKeys, spot: SignatureSpot) -> None:
    assert refused(ORIGINAL, [mark(spot)], keys) == "spot_outside_page"


def test_an_unknown_field_and_a_wrong_digest_are_refused(keys: SealKeys) -> None:
    spot = SignatureSpot(0, 0.1, 0.1, 0.2, 0.1, field_name="NoSuchField")
    assert refused(ORIGINAL, [mark(spot)], keys) == "signature_field_unknown"
    with pytest.raises(ValueError, match="audit record names original"):
        do_sign(ORIGINAL, [mark()], audit(pdf(pages=1)), keys)


# ------------------------------------------------------------------ placement
def blue_box(data: bytes, page: int) -> tuple[float, float, float, float]:
    """The box (fractions of the displayed page) of the signature's blue pixels."""
    img = pdfium.render_page(data, page, 600, 10_000_000)
    w, h = img.size
    px = img.load()
    assert px is not None
    xs, ys = [], []
    for y in range(0, h, 2):
        for x in range(0, w, 2):
            r, g, b = px[x, y]  # type: ignore[misc]
            if b > 120 and r < 80 and g < 80:
                xs.append(x)
                ys.append(y)
    assert xs, "no signature pixels on the page"
    return min(xs) / w, min(ys) / h, max(xs) / w, max(ys) / h


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_the_signature_lands_upright_in_its_spot(keys: SealKeys, rotate: int) -> None:
    original = edited_pdf(lambda d: setattr(d.pages[1].obj, "Rotate", rotate), pdf(pages=2))
    spot = SignatureSpot(1, 0.55, 0.7, 0.4, 0.15)
    sealed = do_sign(original, [mark(spot)], audit(original), keys)
    x0, y0, x1, y1 = blue_box(sealed, 1)
    tol = 0.02
    assert spot.x - tol <= x0 and x1 <= spot.x + spot.width + tol, (x0, x1)
    assert spot.y - tol <= y0 and y1 <= spot.y + spot.height + tol, (y0, y1)
    # the stroke is a wide "^": wider than high, as drawn (upright, not turned)
    assert (x1 - x0) * 1.0 > (y1 - y0) * 0.8
    with pikepdf.open(io.BytesIO(sealed)) as doc:
        xobjects = doc.pages[1].obj.Resources.XObject
        (sig_image,) = [xobjects[k] for k in xobjects.keys() if k.startswith("/VvSig")]
        assert "/SMask" in sig_image  # transparent background
        assert int(sig_image.Width) == 400
    assert check_signed_pdf(sealed, [seal_certificate_pem(keys)]).valid


def with_fields(base: bytes) -> bytes:
    """`base` with two empty signature fields made by pyHanko: one on page 1, one on a
    page turned by 90°."""
    doc = edited_pdf(lambda d: setattr(d.pages[1].obj, "Rotate", 90), base)
    writer = IncrementalPdfFileWriter(io.BytesIO(doc))
    sig_fields.append_signature_field(
        writer, sig_fields.SigFieldSpec("Kunde", on_page=0, box=(60, 84, 298, 168))
    )
    sig_fields.append_signature_field(
        writer, sig_fields.SigFieldSpec("Berater", on_page=1, box=(100, 200, 150, 400))
    )
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    # rewritten by pikepdf, as an editor would save it: no incremental sections
    with pikepdf.open(io.BytesIO(out.getvalue())) as d:
        flat = io.BytesIO()
        d.save(flat)
        return flat.getvalue()


def test_the_pdfs_own_signature_fields_are_listed_and_filled(keys: SealKeys) -> None:
    original = with_fields(pdf(pages=2))
    spots = {s.field_name: s for s in list_signature_fields(original)}
    assert set(spots) == {"Kunde", "Berater"}
    kunde = spots["Kunde"]
    assert kunde.page == 0
    a4w, a4h = 595.2756, 841.8898
    assert kunde.x == pytest.approx(60 / a4w, abs=1e-3)
    assert kunde.width == pytest.approx(238 / a4w, abs=1e-3)
    assert kunde.y == pytest.approx((a4h - 168) / a4h, abs=1e-3)
    assert kunde.height == pytest.approx(84 / a4h, abs=1e-3)
    # page 2 is turned by 90° clockwise: the box's user-space y becomes display x
    berater = spots["Berater"]
    assert berater.page == 1
    assert berater.x == pytest.approx(200 / a4h, abs=1e-3)
    assert berater.width == pytest.approx(200 / a4h, abs=1e-3)
    assert berater.y == pytest.approx(100 / a4w, abs=1e-3)
    assert berater.height == pytest.approx(50 / a4w, abs=1e-3)

    sealed = do_sign(
        original, [mark(kunde), mark(berater, "Anna Berger", "adviser")], audit(original), keys
    )
    assert check_signed_pdf(sealed, [seal_certificate_pem(keys)]).valid
    assert list_signature_fields(sealed) == []  # filled: no empty box left
    with pikepdf.open(io.BytesIO(sealed)) as doc:
        names = [str(f.get("/T")) for f in doc.Root.AcroForm.Fields]
        assert names == ["VisavisSeal"]
    x0, _, x1, _ = blue_box(sealed, 0)
    assert kunde.x - 0.02 <= x0 and x1 <= kunde.x + kunde.width + 0.02


def test_a_pdf_without_fields_lists_none() -> None:
    assert list_signature_fields(ORIGINAL) == []
    with pytest.raises(SigningError) as err:
        list_signature_fields(b"%PDF-1.4 nonsense")
    assert err.value.code == "pdf_malformed"


# ------------------------------------------------------------------ audit trail
def test_a_long_audit_trail_flows_over_pages_and_keeps_exact_text(keys: SealKeys) -> None:
    ua = "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 " * 8
    record = audit(ORIGINAL, steps=60, user_agent=ua)
    odd = AuditStep(
        "Unterschrieben / Signed", "Łukasz Żółw 李雷 Ωmega", "customer", NOW, 99, "::1", ua
    )
    record = dataclasses.replace(record, steps=(*record.steps, odd), consent_text="Ja. " * 800)
    sealed = do_sign(ORIGINAL, [mark()], record, keys)
    with pikepdf.open(io.BytesIO(sealed)) as doc:
        audit_pages = len(doc.pages) - 2
    assert audit_pages >= 3
    report = check_signed_pdf(sealed, [seal_certificate_pem(keys)])
    assert report.valid
    assert report.audit["step.61.who"] == "Łukasz Żółw 李雷 Ωmega"
    assert report.audit["step.61.seq"] == "99"
    assert report.audit["step.60.user_agent"] == ua
    assert report.audit["consent_text"] == "Ja. " * 800


# ------------------------------------------------------------------ keys
def test_the_seal_key_is_made_once_private_and_fit_for_signing(tmp_path: Path) -> None:
    first = load_or_create_seal_keys(tmp_path / "keys", "Musterbank eG")
    for name in (KEY_FILE, CERT_FILE):
        mode = stat.S_IMODE((tmp_path / "keys" / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))
    again = load_or_create_seal_keys(tmp_path / "keys", "Another name")
    assert seal_certificate_pem(again) == seal_certificate_pem(first)
    cert = x509.load_pem_x509_certificate(seal_certificate_pem(first))
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36") in eku  # documentSigning
    assert (
        cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Musterbank eG"
    )


def make_p12(path: Path, password: bytes) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Musterbank eG Siegel (CA)")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW.replace(year=2025))
        .not_valid_after(NOW.replace(year=2030))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal", key, cert, None, BestAvailableEncryption(password)
        )
    )


def test_a_pkcs12_key_seals_and_a_wrong_password_is_refused(tmp_path: Path) -> None:
    p12 = tmp_path / "seal.p12"
    make_p12(p12, b"s3cret")
    keys = load_or_create_seal_keys(tmp_path / "unused", "x", p12, b"s3cret")
    assert not (tmp_path / "unused" / KEY_FILE).exists()
    sealed = do_sign(ORIGINAL, [mark()], audit(ORIGINAL), keys)
    report = check_signed_pdf(sealed, [seal_certificate_pem(keys)])
    assert report.valid and report.signatures[0].signer == "Musterbank eG Siegel (CA)"
    for password in (b"wrong", None):
        with pytest.raises(SigningError) as err:
            load_or_create_seal_keys(tmp_path, "x", p12, password)
        assert err.value.code == "seal_key_invalid"


def test_signature_png_within_limits_is_accepted() -> None:
    from visavis.signing.stamp import check_signature_image

    checked = check_signature_image(signature_png(1600, 600))
    assert (checked.width, checked.height) == (1600, 600)
    assert checked.alpha is not None
    opaque = io.BytesIO()
    Image.new("RGB", (10, 10), "white").save(opaque, "PNG")
    assert check_signature_image(opaque.getvalue()).alpha is None
