"""A recorded track's RTP packets into its codec's frames: VP8 (RFC 7741), Opus (RFC 7587).

Janus writes each packet as it arrives (after NACK retransmissions), so a `.mjr` file
can hold packets out of order, twice, or not at all. `in_order` puts them in RTP
order: sequence numbers and timestamps extended past their wrap (16 and 32 bits;
Janus starts both at the first written packet, so a 60 s video of ~100 packets/s
wraps its sequence after 11 minutes), sorted by sequence, duplicates and packets of
another SSRC than the first dropped — as `janus-pp-rec` does (it sorts by timestamp,
then sequence: the same order for a browser's stream). Packets with padding only
stay in the list: they take a sequence number, so dropping them would look like a
loss.

What happens to what is missing, each decided for playback, not copied:

- VP8: a frame is the packets of one timestamp; it is complete when its first packet
  starts partition 0 (S=1, PID=0), its last carries the marker and no sequence number
  between is missing. An incomplete frame, and every frame after it up to the next
  complete keyframe, is dropped: the decoder could not show them (each VP8 inter
  frame refers to the one before); Janus asks for a keyframe every few seconds
  (`fir_freq`), so the picture stands still until then. The same before the first
  keyframe. (`janus-pp-rec` writes every frame it has, broken or not.)
- Opus: each packet is one Opus packet; its duration is read from its TOC byte
  (RFC 6716 3.1). Where the next packet starts later than the last one ends — lost
  packets, or DTX, where the sender sends nothing in silence — the gap is filled with
  silence frames. A gap in a WebM audio track is legal, but a player that plays
  audio packets back to back (and ffprobe's duration of the track) would then run
  ahead of the video by the gap; `janus-pp-rec` fills the same gaps (it also drops
  the first packet after a DTX gap; this keeps it, it is the sender's audio).
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from operator import itemgetter
from typing import NamedTuple

from visavis.recording.mjr import RtpPacket

CLOCK_HZ = {"opus": 48000, "vp8": 90000}  # RFC 7587, RFC 7741
Buffer = bytes | mmap.mmap  # where the payloads are: `data[p.start : p.end]`
_new = tuple.__new__  # a NamedTuple made per packet this way: 4x faster than its __new__


class Ordered(NamedTuple):
    seq: int  # extended: counts on past 65535
    ts: int  # extended: counts on past 2**32
    packet: RtpPacket


class Frame(NamedTuple):
    ts: int  # extended RTP timestamp (the track's clock)
    data: bytes
    key: bool
    samples: int = 0  # audio: its duration at 48 kHz


def in_order(packets: list[RtpPacket]) -> list[Ordered]:
    """The packets of the first SSRC by extended sequence number, each once."""
    if not packets:
        return []
    ssrc = packets[0].ssrc
    top_seq, top_ts = packets[0].seq, packets[0].ts
    out: list[Ordered] = []
    for p in packets:
        if p.ssrc != ssrc:
            continue
        # each extended to the value nearest the highest so far (modulo 2**16, 2**32):
        # a late packet lands before it, one after a wrap after it
        seq = top_seq + ((p.seq - top_seq + 0x8000) & 0xFFFF) - 0x8000
        ts = top_ts + ((p.ts - top_ts + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        if seq > top_seq:
            top_seq, top_ts = seq, ts
        out.append(_new(Ordered, (seq, ts, p)))
    out.sort(key=itemgetter(0))  # stable: of two copies, the first written stays
    return [o for i, o in enumerate(out) if i == 0 or o.seq != out[i - 1].seq]


# --- VP8 (RFC 7741) ---------------------------------------------------------------


def vp8_descriptor(payload: bytes) -> tuple[int, bool, int]:
    """The payload descriptor's length, S bit and partition index (RFC 7741 4.2)."""
    b0 = payload[0]
    size = 1
    if b0 & 0x80 and len(payload) > 1:  # X: the extension octet follows
        x = payload[1]
        size = 2
        if x & 0x80:  # I: a picture id of 7 or 15 bits
            size += 2 if len(payload) > size and payload[size] & 0x80 else 1
        if x & 0x40:  # L: TL0PICIDX
            size += 1
        if x & 0x30:  # T or K: TID/Y/KEYIDX
            size += 1
    return size, bool(b0 & 0x10), b0 & 0x07


def vp8_keyframe_size(frame: bytes) -> tuple[int, int] | None:
    """A keyframe's width and height from its header (RFC 6386 9.1); None for an
    inter frame or a frame too short or without the start code."""
    if len(frame) < 10 or frame[0] & 0x01 or frame[3:6] != b"\x9d\x01\x2a":
        return None
    width, height = struct.unpack_from("<HH", frame, 6)
    return width & 0x3FFF, height & 0x3FFF


def vp8_frames(ordered: list[Ordered], data: Buffer) -> Iterator[Frame]:
    """The complete VP8 frames that a decoder can show (see the module's docstring);
    `data[p.start:p.end]` is a packet's payload."""
    need_key = True
    i, n = 0, len(ordered)
    while i < n:
        ts, first_seq = ordered[i].ts, ordered[i].seq
        parts: list[bytes] = []
        starts = marker = False
        j = i
        while j < n and ordered[j].ts == ts:  # the packets of one frame
            p = ordered[j].packet
            j += 1
            if p.start == p.end:
                continue  # padding only (the frame before's timestamp)
            size, s_bit, pid = vp8_descriptor(data[p.start : p.start + 6])  # <= 6 bytes
            if not parts:
                starts = s_bit and pid == 0
            parts.append(data[p.start + size : p.end])
            marker = p.marker
        contiguous = ordered[j - 1].seq - first_seq == j - i - 1
        i = j
        if not parts:
            continue
        frame = b"".join(parts)
        complete = starts and marker and contiguous and len(frame) > 0
        # the missing packets between frames are seen too: a frame after them lacks
        # its start (S) or the one before lacks its marker
        if not complete:
            need_key = True
            continue
        key = vp8_keyframe_size(frame) is not None
        if need_key and not key:
            continue
        need_key = False
        yield _new(Frame, (ts, frame, key, 0))


def vp8_size(ordered: list[Ordered], data: Buffer) -> tuple[int, int] | None:
    """The largest picture among the keyframes (as `janus-pp-rec` sizes the track)."""
    best: tuple[int, int] | None = None
    for o in ordered:
        p = o.packet
        if p.end - p.start < 16 or not data[p.start] & 0x10:  # S: a partition starts
            continue
        head = bytes(data[p.start : p.start + 16])
        size, s_bit, pid = vp8_descriptor(head)
        if not (s_bit and pid == 0):
            continue
        wh = vp8_keyframe_size(head[size:])
        if wh and (best is None or wh[0] * wh[1] > best[0] * best[1]):
            best = wh
    return best


# --- Opus (RFC 7587, RFC 6716) ----------------------------------------------------

# 1/400 s units (2.5 ms) per frame for each TOC configuration (RFC 6716 3.1)
_FRAME_UNITS = [4, 8, 16, 24] * 3 + [4, 8] * 2 + [1, 2, 4, 8] * 4
# A CELT-only fullband mono frame of each size that decodes to silence: its range
# coder starts with the silence flag set (RFC 6716 4.3); Opus decoders accept mono
# packets in a stereo stream. Largest first, for filling gaps.
SILENCE = [(960, b"\xf8\xff\xfe"), (480, b"\xf0\xff\xfe"), (240, b"\xe8\xff\xfe"),
           (120, b"\xe0\xff\xfe")]  # fmt: skip


def opus_samples(packet: bytes) -> int:
    """An Opus packet's duration at 48 kHz from its TOC byte (and frame count byte)."""
    toc = packet[0]
    frames = (1, 2, 2, (packet[1] & 0x3F) if len(packet) > 1 else 0)[toc & 0x03]
    return _FRAME_UNITS[toc >> 3] * 120 * frames


def silence(samples: int) -> Iterator[tuple[int, bytes]]:
    """Silence frames filling `samples` at 48 kHz, largest first (a remainder under
    2.5 ms stays a gap)."""
    for size, frame in SILENCE:
        while samples >= size:
            yield size, frame
            samples -= size


def opus_frames(ordered: list[Ordered], data: Buffer) -> Iterator[Frame]:
    """Each packet's Opus packet, and silence where the timestamps leave a gap."""
    end: int | None = None  # where the last written packet's audio ends
    for o in ordered:
        p = o.packet
        if p.empty:
            continue
        packet = data[p.start : p.end]
        samples = opus_samples(packet)
        if samples == 0:
            continue  # a code-3 packet without its frame count: nothing to play
        if end is not None and o.ts > end:
            at = end
            for size, frame in silence(o.ts - end):
                yield _new(Frame, (at, frame, True, size))
                at += size
        yield _new(Frame, (o.ts, packet, True, samples))
        end = o.ts + samples if end is None else max(end, o.ts + samples)


__all__ = ["CLOCK_HZ", "Frame", "Ordered", "in_order", "opus_frames", "opus_samples",
           "silence", "vp8_frames", "vp8_size"]  # fmt: skip
