"""Content for the demo's library, made on the spot (nothing downloaded, no fonts to
ship), so every room feature can be tried in `visavis demo`: a two-page product sheet
(pikepdf, the PDF standard font Helvetica) for sharing, presenting, turning pages and
drawing, and a short product video (WebM, VP8, drawn with Pillow, encoded with PyAV)
for playing, pausing and seeking together."""

from __future__ import annotations

import io
from fractions import Fraction

import pikepdf
from pikepdf import Array, Dictionary, Name
from PIL import Image, ImageDraw, ImageFont

A4 = (595, 842)
PRODUCT_SHEET_NAME = "Produktblatt Girokonto.pdf"
PRODUCT_VIDEO_NAME = "Produktvideo Girokonto.webm"
VIDEO_SIZE = (640, 360)
VIDEO_FPS = 15
VIDEO_SECONDS = 10
BLUE = (31, 89, 158)  # the product sheet's header colour

_PAGES = [
    [
        (28, "Girokonto Plus"),
        (14, "Produktinformationsblatt"),
        (12, ""),
        (12, "- Kontofuehrung: 4,90 EUR im Monat"),
        (12, "- Debitkarte inklusive, Kreditkarte optional"),
        (12, "- Kostenlos Geld abheben an 5.000 Automaten"),
        (12, "- Dispositionskredit: 9,9 % p.a."),
    ],
    [
        (20, "So eroeffnen Sie Ihr Konto"),
        (12, ""),
        (12, "1. Antrag gemeinsam in der Videoberatung ausfuellen"),
        (12, "2. Identitaet per Video bestaetigen"),
        (12, "3. Karte und PIN kommen per Post"),
    ],
]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def product_sheet_pdf() -> bytes:
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    )
    for lines in _PAGES:
        ops = ["0.12 0.35 0.62 rg 0 782 595 60 re f", "BT 0 0 0 rg"]
        y = 740
        for size, text in lines:
            ops.append(f"/F1 {size} Tf 1 0 0 1 60 {y} Tm ({_escape(text)}) Tj")
            y -= int(size * 1.8)
        ops.append("ET")
        page = Dictionary(
            Type=Name.Page,
            MediaBox=Array([0, 0, *A4]),
            Resources=Dictionary(Font=Dictionary(F1=font)),
            Contents=pdf.make_stream("\n".join(ops).encode("latin-1")),
        )
        pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _video_frame(n: int, title: Font, clock: Font) -> Image.Image:
    """Frame n: the product, a bar moving across, and the time in big digits — so two
    people watching together can see by eye whether their videos are in step."""
    w = VIDEO_SIZE[0]
    seconds = n / VIDEO_FPS
    img = Image.new("RGB", VIDEO_SIZE, (245, 247, 250))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, w, 70), fill=BLUE)
    draw.text((24, 14), "Girokonto Plus", font=title, fill=(255, 255, 255))
    draw.text((24, 100), f"{int(seconds) // 60}:{seconds % 60:05.2f}", font=clock, fill=(0, 0, 0))
    bar_x = int((w - 120) * seconds / VIDEO_SECONDS)
    draw.rectangle((0, 250, w, 270), fill=(220, 224, 230))
    draw.rectangle((bar_x, 240, bar_x + 120, 280), fill=BLUE)
    draw.text((24, 300), f"Bild {n + 1}/{VIDEO_FPS * VIDEO_SECONDS}", font=title, fill=(90, 90, 90))
    return img


def product_video_webm() -> bytes:
    """About 10 s of 640x360 VP8 at 15 frames a second (a few hundred KiB)."""
    import av  # lazily: only `visavis demo` makes the video

    title = ImageFont.load_default(size=32)
    clock = ImageFont.load_default(size=96)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=VIDEO_FPS)
        stream.width, stream.height = VIDEO_SIZE
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, VIDEO_FPS)
        stream.bit_rate = 300_000
        # a key frame every 2 s, so seeking (video.control) lands close to the position
        stream.options = {"deadline": "realtime", "cpu-used": "8", "g": str(2 * VIDEO_FPS)}
        for n in range(VIDEO_FPS * VIDEO_SECONDS):
            frame = av.VideoFrame(*VIDEO_SIZE, "rgb24")
            # 640 RGB pixels are 1920 bytes: a line needs no padding, the bytes fit as they are
            assert frame.planes[0].line_size == 3 * VIDEO_SIZE[0]
            frame.planes[0].update(_video_frame(n, title, clock).tobytes())
            frame.pts = n
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()
