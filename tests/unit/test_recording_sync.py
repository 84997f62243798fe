"""The RTCP sync of a recording's tracks on files written byte for byte as Janus 1.1
writes them (`record.c`, `text2pcap.c`): the first written packet found among the
dumped ones by time and checked by its successors, the sender-clock start through
the sender reports (across an RTP timestamp wrap), the fallback to arrival with its
reason; a failed post-processing leaves no dump behind; and the WebM duration read
from a file ffmpeg wrote."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from visavis.recording.mjr import MjrError, MjrTrack, read_mjr
from visavis.recording.postprocess import PostprocessError, track_offsets
from visavis.recording.recorder import Recorder
from visavis.recording.rtcp_sync import SyncError, read_capture, sender_start_s
from visavis.recording.webm_duration import duration_s

T0_US = 1_800_000_000_000_000  # Janus's wall clock when the dumps begin
NTP0 = 3_990_000_000.25  # the sender's NTP clock at its capture start


def rtp(seq: int, ts: int, ssrc: int) -> bytes:
    return struct.pack(">BBHII", 0x90, 111, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + b"\xbe\xde" * 8


def sender_report(ssrc: int, ntp_s: float, rtp_ts: int) -> bytes:
    sec = int(ntp_s)
    frac = int((ntp_s - sec) * 2**32)
    return struct.pack(">BBHIIII", 0x80, 200, 6, ssrc, sec, frac, rtp_ts & 0xFFFFFFFF) + bytes(8)


def write_pcap(path: Path, packets: list[tuple[int, bool, bytes]], truncate: int = 20) -> None:
    """(time µs, incoming, packet) as Janus's `janus_text2pcap_dump` writes them."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for t_us, incoming, pkt in packets:
        cut = pkt[:truncate]
        out += struct.pack(
            "<IIII", t_us // 1_000_000, t_us % 1_000_000, 42 + len(cut), 42 + len(pkt)
        )
        out += bytes(12) + b"\x08\x00"  # Ethernet
        out += bytes(12) + (bytes([10, 1, 1, 1, 10, 2, 2, 2]) if incoming else bytes(8))
        out += struct.pack(">HHHH", 1000 if incoming else 2000, 2000, 8 + len(pkt), 0)
        out += cut
    path.write_bytes(bytes(out))


def write_mjr(path: Path, kind: str, first_us: int, packets: list[bytes]) -> None:
    """Janus's `.mjr`: each packet's seq and ts rewritten to start at 1 and 0."""
    header = json.dumps({"t": kind[0], "c": "opus" if kind == "audio" else "vp8", "s": first_us,
                         "u": first_us}).encode()  # fmt: skip
    out = bytearray(b"MJR00002" + struct.pack(">H", len(header)) + header)
    seq0, ts0 = struct.unpack(">HI", packets[0][2:8])
    for i, pkt in enumerate(packets):
        seq, ts = struct.unpack(">HI", pkt[2:8])
        head = struct.pack(">HI", (seq - seq0 + 1) & 0xFFFF, (ts - ts0) & 0xFFFFFFFF)
        body = pkt[:2] + head + pkt[8:]
        out += b"MEET" + struct.pack(">IH", i * 20, len(body)) + body
    path.write_bytes(bytes(out))


def stream(ssrc: int, hz: int, ts_origin: int, seq0: int, times_s: list[float],
           per_frame: int = 1) -> list[tuple[int, bytes]]:  # fmt: skip
    """Packets of frames captured at `times_s` (sender seconds), each handled by Janus
    30 ms after capture (its time on Janus's clock, 0.1 ms between a frame's packets)."""
    return [
        (T0_US + int((t + 0.030) * 1e6) + k * 100,
         rtp(seq0 + i * per_frame + k, ts_origin + round(t * hz), ssrc))
        for i, t in enumerate(times_s) for k in range(per_frame)
    ]  # fmt: skip


def recording(tmp_path: Path, video_ts_origin: int = 2**32 - 45_000) -> tuple[list[Path], Path]:
    """Audio captured from 0.5 s, video from 0.8 s (sender clock); Janus writes each
    from its 5th packet on. The video's RTP timestamps wrap past 2^32 in the middle."""
    audio = stream(0xA0A0, 48000, 1_000_000, 65530, [0.5 + i * 0.020 for i in range(300)])
    # frames of two packets each, captured irregularly, as a camera does
    frames = [0.8 + i / 30 + (i * 7 % 5) / 1000 for i in range(75)]
    video = stream(0xB0B0, 90000, video_ts_origin, 100, frames, per_frame=2)
    reports = [
        (T0_US + 2_000_000, sender_report(0xA0A0, NTP0 + 1.9, 1_000_000 + round(1.9 * 48000))),
        (
            T0_US + 3_000_000,
            sender_report(0xB0B0, NTP0 + 2.9, video_ts_origin + round(2.9 * 90000)),
        ),
        (
            T0_US + 4_000_000,
            sender_report(0xB0B0, NTP0 + 3.9, video_ts_origin + round(3.9 * 90000)),
        ),
    ]
    rr = (T0_US + 2_500_000, False, sender_report(0x1234, NTP0, 0))  # outgoing: not the sender's
    packets = sorted([(t, True, p) for t, p in audio + video + reports] + [rr])
    pcap = tmp_path / "p.pcap"
    write_pcap(pcap, packets)
    a, v = tmp_path / "p-audio-0.mjr", tmp_path / "p-video-1.mjr"
    write_mjr(a, "audio", audio[4][0] + 40, [p for _, p in audio[4:]])
    write_mjr(v, "video", video[4][0] + 40, [p for _, p in video[4:]])
    return [a, v], pcap


def test_each_track_starts_where_its_sender_reports_put_it(tmp_path: Path) -> None:
    (a, v), pcap = recording(tmp_path)
    cap = read_capture(pcap)
    assert set(cap.reports) == {0xA0A0, 0xB0B0}  # the outgoing report is not taken
    early = read_capture(pcap, until_us=T0_US + 2_500_000)  # read no further than that
    assert {k: len(v) for k, v in early.reports.items()} == {0xA0A0: 1}
    audio, video = read_mjr(a), read_mjr(v)
    assert (audio.kind, audio.ssrc, video.kind, video.ssrc) == ("audio", 0xA0A0, "video", 0xB0B0)
    assert sender_start_s(audio, cap) == pytest.approx(NTP0 + 0.5 + 4 * 0.020, abs=1e-4)
    video_start = 0.8 + 2 / 30 + 0.004  # the 5th packet: the 3rd frame's first
    assert sender_start_s(video, cap) == pytest.approx(NTP0 + video_start, abs=1e-4)
    sync, offsets = track_offsets([audio, video], pcap)
    assert sync == "rtcp"
    assert offsets["audio"] == 0
    assert offsets["video"] == pytest.approx(video_start - 0.5 - 4 * 0.020, abs=1e-4)


def test_the_first_written_packet_is_the_last_dumped_before_the_header_time(
    tmp_path: Path,
) -> None:
    """Janus takes `u` right after writing the first packet, which it dumped just
    before. With a `u` a frame too early only earlier packets are left: none of them
    is followed by the written ones (video timestamps are irregular), so no guess."""
    (_a, v), pcap = recording(tmp_path)
    video = read_mjr(v)
    cap = read_capture(pcap)
    early = MjrTrack(v, "video", "vp8", video.first_us - 34_000, video.first)
    with pytest.raises(SyncError, match="matches"):
        sender_start_s(early, cap)
    assert sender_start_s(video, cap) == pytest.approx(NTP0 + 0.8 + 2 / 30 + 0.004, abs=1e-4)


def test_without_a_sender_report_the_arrival_aligns_them(tmp_path: Path) -> None:
    (a, v), _pcap = recording(tmp_path)
    audio, video = read_mjr(a), read_mjr(v)
    sync, offsets = track_offsets([audio, video], tmp_path / "gone.pcap")
    assert sync == "arrival"
    assert offsets["video"] == pytest.approx((video.first_us - audio.first_us) / 1e6)
    write_pcap(tmp_path / "no-sr.pcap", [(T0_US, True, rtp(1, 1, 0xA0A0))])
    with pytest.raises(SyncError, match="no sender report for SSRC"):
        sender_start_s(audio, read_capture(tmp_path / "no-sr.pcap"))
    assert track_offsets([audio, video], tmp_path / "no-sr.pcap")[0] == "arrival"


def test_the_dump_keeps_20_bytes_of_each_packet(tmp_path: Path) -> None:
    (_a, _v), pcap = recording(tmp_path)
    data = pcap.read_bytes()
    pos = 24
    while pos < len(data):
        incl, orig = struct.unpack_from("<II", data, pos + 8)
        assert incl <= 42 + 20 < orig
        pos += 16 + incl


def test_files_that_are_not_janus_s_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.mjr"
    bad.write_bytes(b"MJR00001" + bytes(30))
    with pytest.raises(MjrError, match="not an MJR00002"):
        read_mjr(bad)
    with pytest.raises(SyncError, match="not a pcap"):
        read_capture(bad)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
def test_the_webm_duration_is_read_from_its_header(tmp_path: Path) -> None:
    out = tmp_path / "x.webm"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
         "testsrc=size=64x48:rate=10:duration=3.2", "-c:v", "libvpx", str(out)],
        check=True,
    )  # fmt: skip
    probed = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(out)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert duration_s(out) == pytest.approx(float(probed), abs=1e-3)
    assert duration_s(out) == pytest.approx(3.2, abs=0.15)


async def test_a_failed_post_processing_keeps_the_tracks_but_not_the_dump(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path, bytes(32))
    raw = recorder.raw_dir("r1")
    raw.mkdir(parents=True)
    (raw / "anna-audio-0.mjr").write_bytes(b"MJR00001" + bytes(30))  # not Janus 1.x's
    (raw / "anna.pcap").write_bytes(b"headers")
    with pytest.raises(PostprocessError, match="not an MJR00002"):
        await recorder.do_finish("r1")
    assert sorted(p.name for p in raw.iterdir()) == ["anna-audio-0.mjr"]
