"""A participant's `.mjr` tracks into one WebM, in this process, without re-encoding.

Each track's RTP packets (`mjr.read_rtp`) are put in order and into frames
(`rtp_depacketize.py`: VP8 frames, Opus packets, silence in audio gaps) and muxed as
they are with PyAV (stream copy: no decoder, no encoder). Each frame's time is its
RTP timestamp after the track's first packet's, in milliseconds (WebM's time base;
rounded as FFmpeg's `av_rescale_q`, as `janus-pp-rec` rounded), plus the track's
shift (the A/V offset of `postprocess.track_offsets`); within a track the times
rise strictly (a frame that would land on the one before goes 1 ms later). The
tracks are read side by side, the frame with the earliest time first.

Codecs: what visavis' Janus room negotiates, Opus and VP8 (`audiocodec`/`videocodec`
in `janus.py`); a track in another codec is refused with `MjrWebmError`. RED
(`red/48000`, RFC 2198) is never negotiated: Janus answers it only for a room created
with its Opus-RED option, which visavis does not set; a track whose packets carry
more than one payload type (RED beside Opus, say) is refused all the same, rather
than written as noise.

PyAV is imported on the first call: the server starts without it (it costs ~0.13 s
of CPU to import), and only a process that post-processes a recording pays it, once.
The call blocks; run it in a thread.
"""

from __future__ import annotations

import contextlib
import heapq
import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from visavis.recording.mjr import MjrError, MjrPackets, read_rtp
from visavis.recording.rtp_depacketize import (
    CLOCK_HZ,
    Frame,
    in_order,
    opus_frames,
    vp8_frames,
    vp8_size,
)

if TYPE_CHECKING:
    from av.container import OutputContainer
    from av.stream import Stream

MS = Fraction(1, 1000)
CODEC = {"audio": "opus", "video": "vp8"}


class MjrWebmError(RuntimeError):
    pass


@dataclass(frozen=True)
class Track:
    path: Path  # a `.mjr` file
    shift_s: float  # added to each of its times


def rescale_ms(ticks: int, clock: int) -> int:
    """`ticks` of `clock` Hz in ms, rounded to nearest, halves away from zero (as
    FFmpeg's `av_rescale_q`, which `janus-pp-rec` used)."""
    sign = -1 if ticks < 0 else 1
    return sign * ((2 * abs(ticks) * 1000 + clock) // (2 * clock))


def _ebml(element: bytes, data: bytes) -> bytes:
    size = len(data)
    length = bytes([0x80 | size]) if size < 0x7F else struct.pack(">H", 0x4000 | size)
    return element + length + data


def opus_template() -> bytes:
    """A Matroska file with one Opus track and no frames, to copy the track from.

    PyAV adds a stream without an encoder only from another file's stream; a stream
    made from the codec's name has no channel count and no OpusHead, which a WebM
    Opus track needs (its CodecPrivate). The OpusHead is what the sender's packets
    are: 48 kHz, stereo as WebRTC's Opus (RFC 7587 7), no pre-skip (they come from the
    browser's encoder, already past its start)."""
    head = b"OpusHead" + bytes([1, 2]) + struct.pack("<HIhB", 0, 48000, 0, 0)
    entry = (
        _ebml(b"\xd7", b"\x01") + _ebml(b"\x83", b"\x02") + _ebml(b"\x86", b"A_OPUS")
        + _ebml(b"\x63\xa2", head)
        + _ebml(b"\xe1", _ebml(b"\xb5", struct.pack(">d", 48000.0)) + _ebml(b"\x9f", b"\x02"))
    )  # fmt: skip
    tracks = _ebml(b"\x16\x54\xae\x6b", _ebml(b"\xae", entry))
    cluster = _ebml(b"\x1f\x43\xb6\x75", _ebml(b"\xe7", b"\x00"))  # the demuxer wants one
    return _ebml(b"\x1a\x45\xdf\xa3", _ebml(b"\x42\x82", b"webm")) + _ebml(
        b"\x18\x53\x80\x67", tracks + cluster
    )


def _check(path: Path, track: MjrPackets) -> None:
    if CODEC[track.kind] != track.codec:
        raise MjrWebmError(
            f"{path.name}: a {track.kind} track in {track.codec!r}; "
            f"only {CODEC[track.kind]} is written for {track.kind}"
        )
    types = {p.pt for p in track.packets}
    if len(types) > 1:
        raise MjrWebmError(
            f"{path.name}: payload types {sorted(types)} in one {track.codec} track, "
            "expected one (RED or a second codec is not unpacked)"
        )


def _timed(
    number: int, frames: Iterator[Frame], origin: int, clock: int, shift_ms: int
) -> Iterator[tuple[int, int, Frame]]:
    last = None
    for frame in frames:
        at = rescale_ms(frame.ts - origin, clock) + shift_ms
        if last is not None and at <= last:
            at = last + 1
        last = at
        yield at, number, frame


def _add_stream(output: OutputContainer, kind: str, size: tuple[int, int] | None) -> Stream:
    import av

    if kind == "video":
        width, height = size or (0, 0)
        return output.add_mux_stream("vp8", width=width, height=height, time_base=MS)
    with av.open(io.BytesIO(opus_template()), "r", format="matroska") as template:
        stream = output.add_stream_from_template(template.streams.audio[0])
    stream.time_base = MS
    return stream


def do_write_webm(tracks: list[Track], out: Path) -> None:
    """The `.mjr` files in `tracks`, each shifted, into the WebM file `out`."""
    import av  # lazily: see the module's docstring

    try:
        with contextlib.ExitStack() as stack:
            read = [stack.enter_context(read_rtp(t.path)) for t in tracks]
            output = stack.enter_context(av.open(str(out), "w", format="webm"))
            streams: list[Stream] = []
            merged = []
            for t, track in zip(tracks, read, strict=True):
                _check(t.path, track)
                ordered = in_order(track.packets)
                if not ordered:
                    continue  # nothing was recorded of it
                size = vp8_size(ordered, track.data) if track.kind == "video" else None
                if track.kind == "video" and size is None:
                    continue  # not one keyframe: nothing a player could show
                clock = CLOCK_HZ[track.codec]
                depacketize = vp8_frames if track.kind == "video" else opus_frames
                frames = depacketize(ordered, track.data)
                number = len(streams)
                streams.append(_add_stream(output, track.kind, size))
                shift_ms = round(t.shift_s * 1000)
                merged.append(_timed(number, frames, ordered[0].ts, clock, shift_ms))
            if not streams:
                raise MjrWebmError(f"{out.name}: no track holds a frame to write")
            for at, number, frame in heapq.merge(*merged):
                packet = av.Packet(frame.data)
                packet.stream = streams[number]
                packet.time_base = MS
                packet.pts = packet.dts = at
                packet.is_keyframe = frame.key
                if frame.samples:
                    packet.duration = rescale_ms(frame.samples, 48000)
                output.mux(packet)
    except (av.FFmpegError, MjrError) as err:
        raise MjrWebmError(f"{out.name}: {err}") from err


__all__ = ["MjrWebmError", "Track", "do_write_webm", "opus_template", "rescale_ms"]
