"""Two slow spots of the libraries signing uses, made fast without changing a byte of
what they produce; installed by each signing module that uses pyHanko or asn1crypto, as
it is imported (the server imports those on first use, not at start).

1. asn1crypto 1.5.1's `dump` re-encodes a value built (or changed) in Python 2^depth
   times. `Asn1Value.dump` reads `self.contents` once for the value and again for
   the header (once more per explicit tag); for a Sequence or SequenceOf built from
   Python values every read re-encodes all children (its "mutated" flag is never
   cleared), and each child's `dump` does the same. A CMS SignedData as pyHanko
   builds it is deep enough for this to be most of a seal's time (~110 of ~130 ms on
   a quiet machine; the same for the local TSA's tokens). Upstream fixed it after
   1.5.1 (wbond/asn1crypto#256, commit a767d2d, not released). The replacement is
   1.5.1's `dump` reading `contents` once: the same bytes, without the repeats.

2. pyHanko 0.38 reads a PDF hex string one byte at a time through its tokenizer: the
   seal's `/Contents` (~10,000 hex digits with a timestamp) cost ~17 ms of each
   verification. The replacement takes the digits up to `>` at once when they are
   only hex digits and whitespace, and hands anything else (a comment, a bad byte, a
   missing `>`) to pyHanko's own reader, which then decides as before.

Each is installed only for the release line it was written against (asn1crypto 1.5,
pyHanko 0.38, as pyproject.toml pins them); another keeps its own code, and
`tests/unit/test_signing_speedups.py` fails so that someone checks the new one.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable
from typing import Any

import asn1crypto
from asn1crypto import core
from pyhanko.pdf_utils import generic
from pyhanko.version import __version__ as pyhanko_version

# the release lines they were written against (pyproject.toml pins both to them): a
# patch release keeps these functions; another line may not, and keeps its own code
ASN1CRYPTO_VERSION = "1.5."
PYHANKO_VERSION = "0.38."
# the libraries' own functions, kept for the tests that compare old and new
ORIGINAL_DUMP: Callable[..., bytes] = core.Asn1Value.dump
ORIGINAL_READ_HEX: Callable[[Any], Any] = generic.read_hex_string_from_stream

_PDF_WHITESPACE = b" \n\r\t\f\x00"  # pyhanko.pdf_utils.misc.PDF_WHITESPACE
_PLAIN_HEX = re.compile(rb"[0-9A-Fa-f \n\r\t\f\x00]*")
_CHUNK = 64 * 1024


def _dump_once(self: Any, force: bool = False) -> bytes:
    contents: bytes = self.contents
    # If the length is indefinite, force the re-encoding (as 1.5.1 does)
    if self._header is not None and self._header[-1:] == b"\x80":
        force = True
    if self._header is None or force:
        if isinstance(self, core.Constructable) and self._indefinite:
            self.method = 0
        header: bytes = core._dump_header(self.class_, self.method, self.tag, contents)
        if self.explicit is not None:
            for class_, tag in self.explicit:
                header = core._dump_header(class_, 1, tag, header + contents) + header
        self._header = header
        self._trailer = b""
    return bytes(self._header + contents + self._trailer)


def read_hex_string(stream: Any) -> Any:
    """pyHanko's `read_hex_string_from_stream`, the digits taken at once. `stream` is
    at the `<`; afterwards it is after the `>`, as with pyHanko's."""
    start = stream.tell()
    stream.read(1)
    chunks = []
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:  # no ">": pyHanko's reader says what is wrong
            stream.seek(start)
            return ORIGINAL_READ_HEX(stream)
        end = chunk.find(b">")
        if end >= 0:
            chunks.append(chunk[:end])
            break
        chunks.append(chunk)
    body = b"".join(chunks)
    if _PLAIN_HEX.fullmatch(body) is None:  # a comment or a bad byte: pyHanko decides
        stream.seek(start)
        return ORIGINAL_READ_HEX(stream)
    stream.seek(start + 1 + len(body) + 1)
    digits = body.translate(None, _PDF_WHITESPACE)
    if len(digits) % 2:
        digits += b"0"  # PDF: a missing last digit is 0
    return generic.pdf_string(binascii.unhexlify(digits))


def do_install_speedups() -> tuple[bool, bool]:
    """Install both (idempotent); for each, whether this library version got it."""
    asn1 = asn1crypto.__version__.startswith(ASN1CRYPTO_VERSION)
    if asn1:
        core.Asn1Value.dump = _dump_once
    hex_ = pyhanko_version.startswith(PYHANKO_VERSION)
    if hex_:
        generic.read_hex_string_from_stream = read_hex_string
    return asn1, hex_
