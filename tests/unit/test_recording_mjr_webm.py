"""`.mjr` tracks into one WebM in this process (`recording/mjr_webm.py`,
`rtp_depacketize.py`, `mjr.read_rtp`), on `.mjr` files written here the way Janus
writes them (its frame format, RTP with a header extension as a browser sends it),
with real VP8 and Opus that ffmpeg encodes: packet for packet what `janus-pp-rec`
and the stream copy that followed it wrote; sequence and timestamp wraps, packets
out of order and twice changing nothing; a lost video packet dropping frames up to
the next keyframe; lost audio and DTX gaps filled with silence; other codecs and RED
refused; a file cut short read up to its cut; and a server that starts without
importing PyAV."""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import pytest

from visavis.recording.mjr import read_rtp
from visavis.recording.mjr_webm import MjrWebmError, Track, do_write_webm, opus_template
from visavis.recording.rtp_depacketize import SILENCE, opus_samples
from visavis.recording.webm_duration import duration_s

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")

CHUNK = 100  # VP8 payload bytes per RTP packet: several packets per frame
VP8_PT, OPUS_PT = 96, 111
SHIFT_S = 0.0456  # the RTCP sync's offset of the later track

Rtp = tuple[int, int, bool, int, bytes]  # seq, ts, marker, payload type, payload


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[bytes], list[bytes]]:
    """Real VP8 frames (64x48, 10 fps, a keyframe every 10) and 20 ms Opus packets."""
    d = tmp_path_factory.mktemp("media")
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=4", "-c:v", "libvpx",
           "-g", "10", "-b:v", "200k", str(d / "v.webm"))  # fmt: skip
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=4", "-ac", "2", "-c:a", "libopus",
           "-frame_duration", "20", str(d / "a.ogg"))  # fmt: skip
    out: list[list[bytes]] = []
    for name in ("v.webm", "a.ogg"):
        with av.open(str(d / name)) as c:
            out.append([bytes(p) for p in c.demux() if p.size])
    return out[0], out[1]


def vp8_rtp(frames: list[bytes], seq: int, ts: int) -> list[Rtp]:
    """RFC 7741 packets as Chromium sends them: X=1, a 15-bit picture id, S on a
    frame's first packet, the marker on its last; 10 fps timestamps at 90 kHz."""
    out: list[Rtp] = []
    for n, frame in enumerate(frames):
        chunks = [frame[i : i + CHUNK] for i in range(0, len(frame), CHUNK)]
        for k, chunk in enumerate(chunks):
            desc = bytes([0x90 if k == 0 else 0x80, 0x80]) + struct.pack(">H", 0x8000 | n)
            out.append(((seq + len(out)) & 0xFFFF, (ts + n * 9000) & 0xFFFFFFFF,
                        k == len(chunks) - 1, VP8_PT, desc + chunk))  # fmt: skip
    return out


def opus_rtp(packets: list[bytes], seq: int, ts: int) -> list[Rtp]:
    return [((seq + n) & 0xFFFF, (ts + n * 960) & 0xFFFFFFFF, False, OPUS_PT, p)
            for n, p in enumerate(packets)]  # fmt: skip


def write_mjr(path: Path, kind: str, codec: str, packets: list[Rtp]) -> Path:
    """A `.mjr` as Janus writes it: the header, then `MEET`, ms, length, RTP (here
    with a one-byte header extension of one word, as a browser's packets have)."""
    header = json.dumps({"t": kind[0], "c": codec, "s": 1, "u": 2}).encode()
    data = bytearray(b"MJR00002" + struct.pack(">H", len(header)) + header)
    for n, (seq, ts, marker, pt, payload) in enumerate(packets):
        rtp = struct.pack(">BBHII", 0x90, pt | (0x80 if marker else 0), seq, ts, 0x1234)
        rtp += b"\xbe\xde\x00\x01" + b"\x10\xff\x00\x00" + payload
        data += b"MEET" + struct.pack(">IH", n, len(rtp)) + rtp
    path.write_bytes(bytes(data))
    return path


def probe(path: Path) -> list[tuple[int, int, int, str]]:
    """Each packet's stream, pts, size and flags, as ffprobe reads them."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_packets", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [(p["stream_index"], int(p["pts"]), int(p["size"]), p["flags"])
            for p in json.loads(out)["packets"]]  # fmt: skip


def tracks(d: Path, video: list[Rtp], audio: list[Rtp], shift_s: float = SHIFT_S) -> list[Track]:
    return [Track(write_mjr(d / "p-audio-0.mjr", "audio", "opus", audio), 0.0),
            Track(write_mjr(d / "p-video-1.mjr", "video", "vp8", video), shift_s)]  # fmt: skip


@pytest.mark.skipif(shutil.which("janus-pp-rec") is None, reason="janus-tools not installed")
def test_the_packets_are_janus_pp_rec_s(
    media: tuple[list[bytes], list[bytes]], tmp_path: Path
) -> None:
    """Count, times, sizes and keyframe flags as `janus-pp-rec` per track and
    `ffmpeg -itsoffset -copyts -c copy` (what the stream copy reproduced) wrote them."""
    vp8, opus = media
    parts = tracks(tmp_path, vp8_rtp(vp8, 1, 0), opus_rtp(opus, 1, 0))
    ours = tmp_path / "ours.webm"
    do_write_webm(parts, ours)
    audio, video = tmp_path / "a.opus", tmp_path / "v.webm"
    for src, dst in ((parts[0].path, audio), (parts[1].path, video)):
        subprocess.run(["janus-pp-rec", "-d", "0", str(src), str(dst)], check=True)
    theirs = tmp_path / "theirs.webm"
    ffmpeg("-i", str(audio), "-itsoffset", str(SHIFT_S), "-i", str(video), "-map", "0",
           "-map", "1", "-c", "copy", "-copyts", "-f", "webm", str(theirs))  # fmt: skip
    assert probe(ours) == probe(theirs)
    assert len(probe(ours)) == len(vp8) + len(opus)
    # the file's duration: the later track's end (janus-pp-rec's video had a default
    # frame duration guessed by ffmpeg from its frame rate; ours has none)
    assert duration_s(ours) == pytest.approx(duration_s(theirs), abs=0.11)


def test_wraps_reordering_and_duplicates_change_nothing(
    media: tuple[list[bytes], list[bytes]], tmp_path: Path
) -> None:
    vp8, opus = media
    clean = tmp_path / "clean"
    clean.mkdir()
    do_write_webm(tracks(clean, vp8_rtp(vp8, 1, 0), opus_rtp(opus, 1, 0)), clean / "o.webm")
    # sequence numbers wrap within the first frames, timestamps within the first second
    video = vp8_rtp(vp8, 65530, 2**32 - 20000)
    audio = opus_rtp(opus, 65530, 2**32 - 10 * 960)
    for packets in (video, audio):
        for i in range(3, len(packets) - 1, 7):  # neighbours swapped, as the network does
            packets[i], packets[i + 1] = packets[i + 1], packets[i]
        packets[10:10] = [packets[12], packets[5]]  # a retransmission arriving twice
    messy = tmp_path / "messy"
    messy.mkdir()
    do_write_webm(tracks(messy, video, audio), messy / "o.webm")
    assert probe(messy / "o.webm") == probe(clean / "o.webm")


def test_a_lost_video_packet_drops_the_frames_up_to_the_next_keyframe(
    media: tuple[list[bytes], list[bytes]], tmp_path: Path
) -> None:
    vp8, opus = media
    video = vp8_rtp(vp8, 1, 0)
    lost_frame = 13  # an inter frame; the next keyframe is frame 20
    assert len(vp8[lost_frame]) > CHUNK  # more than one packet: the second one is lost
    del video[[i for i, p in enumerate(video) if p[1] == lost_frame * 9000][1]]
    do_write_webm(tracks(tmp_path, video, opus_rtp(opus, 1, 0), 0.0), tmp_path / "o.webm")
    times = [pts for stream, pts, _, _ in probe(tmp_path / "o.webm") if stream == 1]
    assert times == [round(n * 100) for n in range(len(vp8)) if not 13 <= n < 20]
    with av.open(str(tmp_path / "o.webm")) as c:  # what is left decodes, none of it broken
        assert len(list(c.decode(video=0))) == len(vp8) - 7


def test_lost_audio_and_dtx_gaps_are_silence(
    media: tuple[list[bytes], list[bytes]], tmp_path: Path
) -> None:
    vp8, opus = media
    audio = opus_rtp(opus, 1, 0)
    # DTX: the sender sent nothing for 5 packets' time, and numbered on without a gap
    audio[60:] = [((s - 5) & 0xFFFF, ts, m, pt, p) for s, ts, m, pt, p in audio[65:]]
    del audio[30:33]  # lost: 3 sequence numbers missing
    do_write_webm(tracks(tmp_path, vp8_rtp(vp8, 1, 0), audio), tmp_path / "o.webm")
    rows = [row for row in probe(tmp_path / "o.webm") if row[0] == 0]
    assert [pts for _, pts, _, _ in rows] == [20 * n for n in range(len(opus))]
    silent = {pts for _, pts, size, _ in rows if size == len(SILENCE[0][1])}
    assert silent >= {20 * n for n in [*range(30, 33), *range(60, 65)]}


def test_silence_frames_decode_to_silence(tmp_path: Path) -> None:
    path = tmp_path / "s.webm"
    at = 0
    frames = [frame for _, frame in SILENCE] * 2
    with av.open(str(path), "w", format="webm") as out:
        with av.open(io.BytesIO(opus_template()), format="matroska") as template:
            stream = out.add_stream_from_template(template.streams.audio[0])
        for frame in frames:
            packet = av.Packet(frame)
            packet.stream, packet.time_base, packet.pts = stream, Fraction(1, 48000), at
            out.mux(packet)
            at += opus_samples(frame)
    with av.open(str(path)) as c:
        decoded = list(c.decode(audio=0))
    assert [f.samples for f in decoded] == [opus_samples(f) for f in frames]
    assert all(not any(bytes(plane)) for f in decoded for plane in f.planes)


def test_other_codecs_and_red_are_refused(
    media: tuple[list[bytes], list[bytes]], tmp_path: Path
) -> None:
    vp8, opus = media
    h264 = write_mjr(tmp_path / "h-video-0.mjr", "video", "h264", vp8_rtp(vp8, 1, 0))
    with pytest.raises(MjrWebmError, match="'h264'; only vp8"):
        do_write_webm([Track(h264, 0.0)], tmp_path / "h.webm")
    audio = opus_rtp(opus, 1, 0)
    audio[5] = (*audio[5][:3], 63, b"\x80" + audio[5][4])  # a RED packet among Opus
    red = write_mjr(tmp_path / "r-audio-0.mjr", "audio", "opus", audio)
    with pytest.raises(MjrWebmError, match=r"payload types \[63, 111\]"):
        do_write_webm([Track(red, 0.0)], tmp_path / "r.webm")


def test_a_file_cut_short_is_read_up_to_the_cut(
    media: tuple[list[bytes], list[bytes]], tmp_path: Path
) -> None:
    _, opus = media
    path = write_mjr(tmp_path / "c-audio-0.mjr", "audio", "opus", opus_rtp(opus, 1, 0))
    whole = path.read_bytes()
    path.write_bytes(whole[:-5])  # Janus killed while writing the last packet
    with read_rtp(path) as track:
        assert [p.seq for p in track.packets] == list(range(1, len(opus)))
        first = track.packets[0]
        assert track.data[first.start : first.end] == opus[0]  # the extension skipped


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
        "        print('av' in sys.modules, 'visavis.recording.mjr_webm' in sys.modules)\n"
        "asyncio.run(run())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert out.split() == ["False", "True"]  # the module is there, PyAV is not
