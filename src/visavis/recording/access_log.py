"""Every access to a recording, written down (who, which, what, which bytes).

One structured log line per access, in this one function, so it can be pointed at
the hash-chained audit log when that is available.
"""

from __future__ import annotations

import json
import logging

log = logging.getLogger("visavis.audit.recording")


def do_log_recording_access(
    adviser_id: str,
    conversation_id: str,
    recording_id: str,
    action: str,  # "list" | "play" | "download"
    participant: str | None = None,
    byte_range: str | None = None,
) -> None:
    record = {
        "audit": "recording.access",
        "adviser_id": adviser_id,
        "conversation_id": conversation_id,
        "recording_id": recording_id,
        "action": action,
        "participant": participant,
        "range": byte_range,
    }
    log.info("%s", json.dumps(record, sort_keys=True))
