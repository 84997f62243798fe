"""The in-process stream copy of a participant's single-track files into one WebM
(`recording/stream_copy.py`), on files ffmpeg encodes here like janus-pp-rec's (Opus in
Ogg, VP8 in WebM whose first packet is not at 0): the packets unchanged and, for audio
without pre-skip as janus-pp-rec writes it, at exactly the times `ffmpeg -itsoffset
-copyts -c copy` gave them; the video's own start gap kept and the shift added; read
side by side by time; a duration that ffprobe and `webm_duration` agree on; Cues for
seeking; errors as StreamCopyError; and a server that starts without importing PyAV."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import av
import pytest

from visavis.recording.stream_copy import Part, StreamCopyError, do_stream_copy, interleaved
from visavis.recording.webm_duration import duration_s

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")

VIDEO_START_S = 0.3  # janus-pp-rec: the video's first written packet after its first one
SHIFT_S = 0.5413  # the RTCP sync's offset of the later track


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def probe(path: Path) -> dict[str, object]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries",
         "stream=codec_name,codec_type,start_time,avg_frame_rate:stream_tags:format=duration,format_name",
         "-show_packets", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    info: dict[str, object] = json.loads(out)
    return info


def packets(info: dict[str, object]) -> list[tuple[int, int, str, int, str]]:
    """Each packet's stream, time, duration (the video's from the track's default
    frame duration, which ffmpeg guesses from the input), size and flags."""
    rows = info["packets"]
    assert isinstance(rows, list)
    return [(p["stream_index"], int(p["pts"]), p.get("duration", "-"), int(p["size"]),
             p["flags"]) for p in rows]  # fmt: skip


@pytest.fixture(scope="module")
def singles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Like janus-pp-rec's: Opus in Ogg without pre-skip (tagged with the `.mjr`
    header), VP8 in WebM from 0.3 s at an irregular 10-ish frames per second."""
    d = tmp_path_factory.mktemp("singles")
    audio, video = d / "p-audio-0.opus", d / "p-video-1.webm"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "libopus",
           "-metadata:s:a", 'comment={"t": "a", "c": "opus"}', str(d / "pre.opus"))  # fmt: skip
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=2.5", "-c:v", "libvpx",
           "-g", "7", "-output_ts_offset", str(VIDEO_START_S), str(video))  # fmt: skip
    # janus-pp-rec writes no pre-skip (its packets are the sender's, not an encoder's)
    data = bytearray((d / "pre.opus").read_bytes())
    head = data.index(b"OpusHead")
    data[head + 10 : head + 12] = bytes(2)
    page = data.rindex(b"OggS", 0, head)  # the page's CRC covers the changed bytes
    data[page + 22 : page + 26] = bytes(4)
    data[page + 22 : page + 26] = ogg_crc(bytes(data[page : data.index(b"OggS", head)]))
    audio.write_bytes(bytes(data))
    with av.open(str(audio)) as check:
        assert check.streams.audio[0].codec_context.codec.name.endswith("opus")
    return audio, video


def ogg_crc(page: bytes) -> bytes:
    crc = 0
    for byte in page:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc.to_bytes(4, "little")


def test_the_packets_are_copied_at_ffmpeg_s_copyts_times(
    singles: tuple[Path, Path], tmp_path: Path
) -> None:
    audio, video = singles
    ours, theirs = tmp_path / "ours.webm", tmp_path / "ffmpeg.webm"
    do_stream_copy([Part(audio, 0.0), Part(video, SHIFT_S)], ours)
    ffmpeg("-i", str(audio), "-itsoffset", f"{SHIFT_S:.6f}", "-i", str(video),
           "-map", "0:a", "-map", "1:v", "-c", "copy", "-copyts", "-f", "webm", str(theirs))  # fmt: skip
    mine, ref = probe(ours), probe(theirs)
    assert packets(mine) == packets(ref)
    streams = mine["streams"]
    assert isinstance(streams, list)
    assert [(s["codec_type"], s["codec_name"]) for s in streams] == [
        ("audio", "opus"),
        ("video", "vp8"),
    ]
    # the video keeps its own gap and is shifted: 0.3 + 0.5413 s, in milliseconds
    assert float(streams[1]["start_time"]) == pytest.approx(VIDEO_START_S + SHIFT_S, abs=1e-3)
    assert float(streams[0]["start_time"]) == 0
    # each stream's tags as ffmpeg copied them (janus-pp-rec's `.mjr` header on the audio)
    assert streams[0]["tags"]["COMMENT"] == '{"t": "a", "c": "opus"}'
    assert [s["tags"] for s in streams] == [s["tags"] for s in ref["streams"]]  # type: ignore[attr-defined]
    fmt = mine["format"]
    assert isinstance(fmt, dict)
    assert "webm" in fmt["format_name"]
    assert float(fmt["duration"]) == pytest.approx(float(ref["format"]["duration"]), abs=1e-3)  # type: ignore[index]
    assert duration_s(ours) == pytest.approx(float(fmt["duration"]), abs=1e-3)
    assert duration_s(ours) == pytest.approx(VIDEO_START_S + SHIFT_S + 2.5, abs=0.15)
    assert b"\x1c\x53\xbb\x6b" in ours.read_bytes()  # Cues: players can seek


def test_the_inputs_are_read_side_by_side_by_time(
    singles: tuple[Path, Path], tmp_path: Path
) -> None:
    audio, video = singles
    parts = [Part(video, 0.0), Part(audio, 1.0)]  # the audio the later one this time
    with av.open(str(video)) as v, av.open(str(audio)) as a:
        with av.open(str(tmp_path / "x.webm"), "w", format="webm") as out:
            seen = [
                (p.stream.index, float(p.dts * p.time_base))  # type: ignore[operator]
                for p in interleaved(parts, [v, a], out)
            ]
    times = [t for _, t in seen]
    assert times == sorted(times)
    assert times[0] == pytest.approx(VIDEO_START_S)
    first_audio = next(t for i, t in seen if i == 1)
    assert first_audio == pytest.approx(1.0)
    # the two alternate from then on: a packet of each at least every 0.15 s
    kinds = [i for i, _ in seen]
    assert kinds.count(0) > 20 and kinds.count(1) > 100
    assert sum(1 for x, y in itertools.pairwise(kinds) if x != y) > 20


def test_one_track_alone_is_copied(singles: tuple[Path, Path], tmp_path: Path) -> None:
    audio, _video = singles
    out = tmp_path / "audio-only.webm"
    do_stream_copy([Part(audio, 0.25)], out)
    info = probe(out)
    streams = info["streams"]
    assert isinstance(streams, list)
    assert [s["codec_type"] for s in streams] == ["audio"]
    assert float(streams[0]["start_time"]) == pytest.approx(0.25, abs=1e-3)
    assert duration_s(out) == pytest.approx(3.25, abs=0.05)


def test_missing_or_unfit_inputs_are_stream_copy_errors(
    singles: tuple[Path, Path], tmp_path: Path
) -> None:
    audio, video = singles
    with pytest.raises(StreamCopyError, match=r"gone\.webm"):
        do_stream_copy([Part(audio, 0.0), Part(tmp_path / "gone.webm", 0.0)], tmp_path / "o.webm")
    both = tmp_path / "both.webm"
    do_stream_copy([Part(audio, 0.0), Part(video, 0.0)], both)
    with pytest.raises(StreamCopyError, match="2 streams, expected 1"):
        do_stream_copy([Part(both, 0.0)], tmp_path / "o2.webm")


def test_the_server_starts_without_importing_pyav(tmp_path: Path) -> None:
    """PyAV costs ~0.13 s of CPU to import: only the first post-processing pays it."""
    code = (
        "import asyncio, sys\n"
        "from visavis.app import create_app\n"
        "from visavis.config import Settings\n"
        "from visavis.storage.migrate import do_migrate\n"
        "import visavis.recording.recorder\n"
        f"settings = Settings.from_env({{'VISAVIS_DATA_DIR': {str(tmp_path)!r}}})\n"
        "app = create_app(settings)\n"
        "async def run():\n"
        "    await do_migrate(settings.database_url)\n"
        "    async with app.router.lifespan_context(app):\n"
        "        print('av' in sys.modules, 'visavis.recording.stream_copy' in sys.modules)\n"
        "asyncio.run(run())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert out.split() == ["False", "True"]  # the module is there, PyAV is not
