"""The demo library's samples (collab/samples.py) pass the upload checks as what they
are: the product sheet a 2-page PDF, the product video a small 10 s 640x360 VP8 WebM."""

from __future__ import annotations

import io

import av

from visavis.collab.samples import product_sheet_pdf, product_video_webm
from visavis.documents.checks import UploadLimits, check_upload


def test_product_sheet_is_a_two_page_pdf() -> None:
    checked = check_upload(product_sheet_pdf(), UploadLimits())
    assert (checked.kind, checked.mime, len(checked.pages)) == ("pdf", "application/pdf", 2)


def test_product_video_is_a_short_small_vp8_webm() -> None:
    data = product_video_webm()
    assert len(data) < 1_000_000
    checked = check_upload(data, UploadLimits(), allow_video=True)
    assert (checked.kind, checked.mime, checked.pages) == ("video", "video/webm", [])
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("vp8", 640, 360)
        frames = list(container.decode(stream))
    assert len(frames) == 150
    assert frames[0].key_frame
    last = frames[-1]
    assert last.time is not None and 9.8 <= last.time < 10.0
    # the bar moves: the first and the last frame differ where it is drawn (rows
    # 240..280 of the luma plane)

    def bar(frame: av.VideoFrame) -> bytes:
        luma = frame.planes[0]
        return bytes(luma)[240 * luma.line_size : 280 * luma.line_size]

    assert bar(frames[0]) != bar(last)
