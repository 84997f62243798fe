"""Real files for upload tests, good and hostile, made on the spot: PDFs (reportlab,
pikepdf), images (Pillow, or a hand-made PNG header), videos (PyAV, which aiortc
brings). Nothing is a fixture file in the repository, so each test shows what it feeds.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from fractions import Fraction

import av
import pikepdf
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def pdf(pages: int = 1, size: tuple[float, float] = A4, text: str = "Seite") -> bytes:
    """A text PDF with `pages` pages of `size` (points)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size)
    for i in range(pages):
        c.setFont("Helvetica", 14)
        c.drawString(20, size[1] - 40, f"{text} {i + 1}")
        c.rect(10, 10, size[0] - 20, size[1] - 20)
        c.showPage()
    c.save()
    return buf.getvalue()


def many_pages_pdf(pages: int) -> bytes:
    """A valid PDF of `pages` empty pages written by hand: libraries take minutes for
    20,000 pages, this takes milliseconds."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count %d /Kids [%s] >>"
        % (pages, b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))),
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def edited_pdf(change: Callable[[pikepdf.Pdf], None], base: bytes | None = None) -> bytes:
    """`base` (a one-page PDF by default) after `change`, saved by pikepdf."""
    with pikepdf.open(io.BytesIO(base or pdf())) as doc:
        change(doc)
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()


def encrypted_pdf(user: str, owner: str) -> bytes:
    with pikepdf.open(io.BytesIO(pdf())) as doc:
        out = io.BytesIO()
        doc.save(out, encryption=pikepdf.Encryption(user=user, owner=owner))
        return out.getvalue()


def js_action(script: str = "app.alert('hi')") -> pikepdf.Dictionary:
    return pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String(script))


def image(fmt: str, size: tuple[int, int] = (40, 20), mode: str = "RGB", **save: object) -> bytes:
    """A `size` image, left half red and right half blue (to see rotations)."""
    img = Image.new(mode, size, "blue")
    img.paste(Image.new(mode, (size[0] // 2, size[1]), "red"), (0, 0))
    buf = io.BytesIO()
    img.save(buf, fmt, **save)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG signature and IHDR claiming `width` x `height` (valid CRC), and one tiny
    IDAT: what a decompression bomb looks like before its pixels are inflated."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def video(container: str, codec: str, frames: int = 5) -> bytes:
    """A real, tiny video (64 x 48, `frames` frames) in `container` ("mp4", "webm")."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=10)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = Fraction(1, 10)
        for i in range(frames):
            frame = av.VideoFrame(64, 48, "rgb24")
            frame.planes[0].update(bytes([i * 40, 0, 0]) * (64 * 48))
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()
