"""The recorder as the rest of visavis sees it: open a recording, take each
participant's send-only offer, finish (post-process, seal, delete the raw tracks),
and find the sealed files again.

Layout in the data directory: `recordings/raw/<recording id>/` holds Janus's `.mjr`
tracks while a recording runs (deleted once sealed; kept after a failure for the
operator), `recordings/<recording id>/<participant>.webm.sealed` the finished files,
`keys/recordings.key` the key unless VISAVIS_RECORDING_KEY gives one.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visavis.errors import VisavisError
from visavis.recording.janus import JanusProcess, RecordingRoom, list_rooms
from visavis.recording.postprocess import do_remux
from visavis.recording.sealed_file import do_seal

log = logging.getLogger(__name__)

_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TRACK = re.compile(r"(.+)-(?:audio|video)-\d+\.mjr")  # Janus: <filename>-<kind>-<mid>.mjr


@dataclass(frozen=True)
class FinishedFile:
    participant: str
    bytes: int
    duration_s: float
    sync: str  # how audio and video were aligned: "rtcp" or "arrival" (postprocess.py)
    offsets_s: dict[str, float]  # per kind, its start after the earlier track's


def _check_name(value: str) -> str:
    if not _SAFE.fullmatch(value):
        raise VisavisError("bad_request", f"not a recording or participant name: {value!r}")
    return value


class Recorder:
    def __init__(self, data_dir: Path, key: bytes) -> None:
        self.root = data_dir / "recordings"
        self.key = key
        self.janus = JanusProcess(data_dir / "janus")
        self._rooms: dict[str, RecordingRoom] = {}

    def raw_dir(self, recording_id: str) -> Path:
        return self.root / "raw" / _check_name(recording_id)

    def sealed_path(self, recording_id: str, participant: str) -> Path:
        return self.root / _check_name(recording_id) / f"{_check_name(participant)}.webm.sealed"

    async def do_open(self, recording_id: str) -> None:
        if recording_id in self._rooms:
            return
        url = await self.janus.do_ensure()
        room = RecordingRoom(url, self.raw_dir(recording_id), self.janus.admin)
        await room.do_create()
        self._rooms[recording_id] = room

    def is_open(self, recording_id: str) -> bool:
        return recording_id in self._rooms

    async def do_publish(self, recording_id: str, participant: str, offer_sdp: str) -> str:
        room = self._rooms.get(recording_id)
        if room is None:
            raise VisavisError("invalid_state", f"recording {recording_id!r} does not run")
        return await room.do_publish(_check_name(participant), offer_sdp)

    async def do_close(self, recording_id: str) -> bool:
        """Stop taking media (Janus closes the tracks); was the recording open here?"""
        room = self._rooms.pop(recording_id, None)
        if room is None:
            return False
        await room.do_close()
        return True

    async def do_finish(self, recording_id: str) -> list[FinishedFile]:
        """The closed recording's tracks → one sealed WebM per participant."""
        raw = self.raw_dir(recording_id)
        found = (_TRACK.fullmatch(p.name) for p in raw.glob("*.mjr"))
        names = sorted({m.group(1) for m in found if m is not None})
        if not names:
            raise VisavisError("recorder_failed", "nothing was recorded")
        out_dir = self.root / recording_id
        out_dir.mkdir(parents=True, exist_ok=True)
        files = []
        try:
            for name in names:
                plain = raw / f"{name}.av.webm"
                done = await do_remux(name, raw, plain)
                sealed = self.sealed_path(recording_id, name)
                size = await asyncio.to_thread(do_seal, plain, sealed, self.key)
                files.append(
                    FinishedFile(name, size, round(done.duration_s, 2), done.sync, done.offsets_s)
                )
        finally:
            # packet dumps never stay, not even beside tracks kept after a failure
            for pcap in raw.glob("*.pcap"):
                pcap.unlink(missing_ok=True)
        # the plaintext tracks go once the sealed files exist
        await asyncio.to_thread(shutil.rmtree, raw)
        return files

    async def rooms(self) -> list[dict[str, Any]]:
        """Janus's own list of rooms (none while nothing is recorded)."""
        if self.janus.port == 0:
            return []
        return await list_rooms(self.janus.url)

    async def publishers(self, recording_id: str) -> list[dict[str, Any]]:
        room = self._rooms.get(recording_id)
        return [] if room is None else await room.participants()

    async def do_shutdown(self) -> None:
        for recording_id in list(self._rooms):
            await self.do_close(recording_id)
        await self.janus.do_stop()


__all__ = ["FinishedFile", "Recorder"]
