"""The two WebSocket frames (RFC 6455) a chat socket carries nearly always, read and
written without websockets' general machinery: a complete, unfragmented text frame
from the client (masked) and one to the client (not masked).

websockets parses every frame in a generator that reads the header, the length and
the mask in steps, and frames every one through a `Frame` object and a `BytesIO`:
6 µs a chat message received and 2 µs a frame sent (three frames a message), where
these take 1.3 and 0.6 µs. Anything else (a control frame, a fragment, reserved bits,
a frame not complete yet, one over the size limit) is left to websockets
(web/leanws.py), which also says what is wrong with it.
"""

from __future__ import annotations

try:
    from websockets.speedups import apply_mask
except ImportError:  # websockets built without its C part
    from websockets.utils import apply_mask

_TEXT_FIN = 0x81  # FIN, no reserved bits, opcode 1 (text)
_MASKED = 0x80


def text_frame(data: bytes) -> bytes:
    """A final text frame from the server: not masked (RFC 6455, 5.1)."""
    n = len(data)
    if n < 126:
        return bytes((_TEXT_FIN, n)) + data
    if n < 65536:
        return bytes((_TEXT_FIN, 126)) + n.to_bytes(2, "big") + data
    return bytes((_TEXT_FIN, 127)) + n.to_bytes(8, "big") + data


def take_text_frames(data: bytes, max_size: int | None) -> tuple[list[bytes], int]:
    """The payloads of the complete, final, masked text frames at the start of
    `data` (a client's), unmasked, and where the first other thing begins (a frame of
    another kind, one not complete yet, one over `max_size`: websockets' to read)."""
    payloads: list[bytes] = []
    at, end = 0, len(data)
    while end - at >= 6:  # the shortest masked frame: 2 bytes of header, 4 of mask
        if data[at] != _TEXT_FIN:
            break
        second = data[at + 1]
        if not second & _MASKED:  # a client's frames are masked: websockets says so
            break
        n = second & 0x7F
        head = at + 2
        if n == 126:
            n = int.from_bytes(data[head : head + 2], "big")
            head += 2
        elif n == 127:  # 64 KB and more: rare, and over any limit a chat has
            break
        start = head + 4
        if (max_size is not None and n > max_size) or start + n > end:
            break
        payloads.append(apply_mask(data[start : start + n], data[head:start]))
        at = start + n
    return payloads, at
