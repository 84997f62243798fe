"""Janus's Admin API, for one thing: a publisher's packet headers in a pcap file.

Janus writes nothing of RTCP into `.mjr` files; its Admin API can dump a handle's
decrypted RTP and RTCP, each packet cut to its first bytes, into a pcap file
(`start_pcap`/`stop_pcap`). `rtcp_sync.py` reads the sender reports and
packet headers there. The Admin API listens on 127.0.0.1 only, with a secret made on
each start of Janus (`JanusProcess`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visavis.errors import VisavisError

REQUEST_TIMEOUT_S = 15.0
# An RTCP sender report's sender info ends at byte 20 (RFC 3550 6.4.1); of an RTP
# packet the 12-byte header and 8 bytes more (Chromium's header extensions come first)
# are kept: no media payload of any use is written.
PCAP_TRUNCATE = 20
# The sync needs the first packets and a few sender reports (Chromium: video every 1 s,
# audio every 5 s): the dump stops after this long, which bounds its size and parsing.
# 15 s rather than 60: the same sync (a real 64 s recording: video 57.33 ms after the
# audio from its first 15 s, 57.10 ms from 60 s; WebM counts in ms) from 2-3 audio and
# ~15 video reports, and the parse, the largest part of the post-processing's fixed
# cost since it runs in the server process, drops from ~35 to ~10 ms per participant;
# Janus's own CPU did not differ measurably (bench/recording.py --pcap-seconds).
PCAP_SECONDS = 15.0


def pcap_path(rec_dir: Path, name: str) -> Path:
    """Where a participant's packet dump goes, beside its `.mjr` tracks."""
    return rec_dir / f"{name}.pcap"


@dataclass(frozen=True)
class JanusAdmin:
    """The Admin API at `url` (`http://127.0.0.1:<port>/admin`)."""

    url: str
    secret: str

    async def _post(self, session_id: int, handle: int, body: dict[str, Any]) -> None:
        import httpx  # on first use, as in janus.py: a server that never records never loads it

        body = {**body, "transaction": secrets.token_hex(8), "admin_secret": self.secret}
        try:
            async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as http:
                r = await http.post(f"{self.url}/{session_id}/{handle}", json=body)
            r.raise_for_status()
            reply = r.json()
        except (httpx.HTTPError, ValueError) as err:
            raise VisavisError("recorder_failed", f"janus admin {body['janus']}: {err}") from err
        if reply.get("janus") != "success":
            raise VisavisError("recorder_failed", f"janus admin {body['janus']}: {reply}")

    async def do_start_pcap(self, session_id: int, handle: int, path: Path) -> None:
        await self._post(session_id, handle, {
            "janus": "start_pcap", "folder": str(path.parent), "filename": path.name,
            "truncate": PCAP_TRUNCATE,
        })  # fmt: skip

    async def do_stop_pcap(self, session_id: int, handle: int) -> None:
        await self._post(session_id, handle, {"janus": "stop_pcap"})


__all__ = ["PCAP_SECONDS", "PCAP_TRUNCATE", "JanusAdmin", "pcap_path"]
