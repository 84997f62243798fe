"""Single-track files into one WebM by stream copy, in this process (PyAV).

What `ffmpeg -itsoffset <s> -i <file> ... -c copy -copyts -f webm` did, without the
ffmpeg process (100-110 ms of CPU per start, the largest part of the fixed
post-processing cost of a recorded participant): each input's packets go out
unchanged, their timestamps as they are in the input (`-copyts`: a track whose first
packet is not at 0 keeps that gap) plus the input's shift; its tags, and the video's
guessed frame rate (Matroska's DefaultDuration), as ffmpeg copied them. The inputs
are read side by side, the packet with the earliest shifted time first, so the muxer
buffers a few packets, not a whole track (it interleaves by time and waits for every
stream).

PyAV is imported on the first call: the server starts without it (it costs ~0.13 s
of CPU to import), and only a process that post-processes a recording pays it, once.
The call blocks; run it in a thread.
"""

from __future__ import annotations

import contextlib
import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from av.container import InputContainer, OutputContainer
    from av.packet import Packet
    from av.stream import Stream


class StreamCopyError(RuntimeError):
    pass


@dataclass(frozen=True)
class Part:
    path: Path  # a file with one audio or video stream (janus-pp-rec's .webm or .opus)
    shift_s: float  # added to each of its timestamps


def _shifted(
    part: Part, number: int, stream: Stream, packets: Iterator[Packet[Stream]], out: Stream
) -> Iterator[tuple[float, int, Packet[Stream]]]:
    """The part's packets moved to `out` and shifted, each with its time in seconds
    (a float: only the reading order depends on it, the muxer orders exactly)."""
    time_base = stream.time_base
    if time_base is None:
        raise StreamCopyError(f"{part.path.name}: its stream has no time base")
    shift = round(Fraction(part.shift_s) / time_base)
    seconds = float(time_base)
    for packet in packets:
        dts = packet.dts
        if dts is None:
            if packet.size:
                raise StreamCopyError(f"{part.path.name}: a packet without a time")
            continue  # the demuxer's empty flush packet at the end
        if shift:
            packet.dts = dts = dts + shift
            pts = packet.pts
            if pts is not None:
                packet.pts = pts + shift
        packet.stream = out  # its time base stays the input's: mux() converts it
        yield dts * seconds, number, packet


def interleaved(
    parts: list[Part], inputs: list[InputContainer], output: OutputContainer
) -> Iterator[Packet[Stream]]:
    """Each input's one stream added to `output` (stream copy), and their packets,
    shifted and moved to it, by time: read side by side, never one input ahead."""
    from av.video.stream import VideoStream  # av is loaded: the inputs are open

    merged = []
    for number, (part, source) in enumerate(zip(parts, inputs, strict=True)):
        if len(source.streams) != 1:
            raise StreamCopyError(f"{part.path.name}: {len(source.streams)} streams, expected 1")
        stream = source.streams[0]
        target = output.add_stream_from_template(stream)
        # as ffmpeg: each stream's tags (janus-pp-rec's Opus stream carries the `.mjr`
        # header), the first input's file tags
        target.metadata.update(stream.metadata)
        # as ffmpeg: the input's guessed frame rate, written as the track's DefaultDuration
        if (
            isinstance(stream, VideoStream)
            and isinstance(target, VideoStream)
            and stream.guessed_rate
        ):
            target.codec_context.framerate = stream.guessed_rate
        if number == 0:
            output.metadata.update(source.metadata)
        merged.append(_shifted(part, number, stream, source.demux(stream), target))
    # by time, then by part (never by packet)
    for _at, _number, packet in heapq.merge(*merged):
        yield packet


def do_stream_copy(parts: list[Part], out: Path) -> None:
    """The one stream of each part in `parts`, shifted, into the WebM file `out`."""
    import av  # lazily: see the module's docstring

    try:
        with contextlib.ExitStack() as stack:
            inputs = [stack.enter_context(av.open(str(p.path), "r")) for p in parts]
            output = stack.enter_context(av.open(str(out), "w", format="webm"))
            for packet in interleaved(parts, inputs, output):
                output.mux(packet)
    except av.FFmpegError as err:
        raise StreamCopyError(f"{out.name}: {err}") from err


__all__ = ["Part", "StreamCopyError", "do_stream_copy", "interleaved"]
