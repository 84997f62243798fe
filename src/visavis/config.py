"""Settings from `VISAVIS_*` environment variables.

Only `app.create_app` and the CLI read settings; everything else gets values
passed in. Every field is documented in docs/operations.md (checked by a test).
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

# id:German label:English label, comma-separated (VISAVIS_TOPICS)
DEFAULT_TOPICS = (
    "beratung:Allgemeine Beratung:General advice,"
    "konto:Konto & Karte:Account & card,"
    "kredit:Kredit & Finanzierung:Loans & financing"
)


@dataclass(frozen=True)
class Topic:
    id: str
    label_de: str
    label_en: str


# VISAVIS_CHAT_LINGER_US when it is not set: how long a busy chat group commit waits
# for company. On PostgreSQL a group saves a round trip and a WAL flush in another
# process, and that process's CPU; on SQLite only this process's own CPU, and a wait
# costs every message of the group its length. Measured at 2,000 msg/s on SQLite
# (docs/operations.md, "Chat latency or CPU"): p99 2.9-3.7 ms (once 8.4) without a
# wait against 5.1-6.3 ms with 1 ms, p50 1.0-1.4 against 2.3-2.9 ms, for 61-79 % CPU
# against 51-61 %; at 3,400 msg/s p99 4.9 against 7.4 ms at 77 against 64 %. So
# SQLite does not wait; on PostgreSQL 1 and 2 ms were within the runs' scatter.
SQLITE_LINGER_US = 0
POSTGRES_LINGER_US = 2000


@dataclass(frozen=True)
class Settings:
    data_dir: str = "var"
    database_url: str = ""
    secret_key: str = ""
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    max_chats: int = 3
    customer_token_ttl_s: int = 30 * 24 * 3600
    session_ttl_s: int = 12 * 3600
    heartbeat_s: int = 25
    login_attempts_per_minute: int = 5
    conversations_per_minute: int = 10
    ws_frames_per_second: int = 20
    ws_frame_burst: int = 40
    chat_queue_max: int = 2000
    chat_linger_us: int = POSTGRES_LINGER_US  # from_env: by the database, if not set
    cookie_secure: bool = False
    frame_ancestors: str = "*"
    cobrowse_origins: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    smtp_security: str = "starttls"
    invitation_ttl_s: int = 7 * 24 * 3600
    code_ttl_s: int = 600
    code_guesses_per_minute: int = 10
    requested_adviser_fallback_s: int = 120
    offer_timeout_s: int = 30
    timezone: str = "Europe/Berlin"
    ice_urls: str = ""
    turn_secret: str = ""
    turn_ttl_s: int = 600
    ice_transport_policy: str = "all"
    topics: str = DEFAULT_TOPICS
    upload_max_bytes: int = 25 * 1024 * 1024
    upload_max_pages: int = 200
    cobrowse_mask: str = ""
    sign_adviser: bool = False
    log_level: str = "info"
    # data protection (privacy/): the deployment profile, retention per kind of data
    # in days after a conversation ends ("" = the profile's default), the file key,
    # who is responsible (the privacy page)
    profile: str = "retail"
    retention_messages_days: str = ""
    retention_documents_days: str = ""
    retention_forms_days: str = ""
    retention_signed_pdfs_days: str = ""
    retention_recordings_days: str = ""
    retention_metadata_days: str = ""
    retention_interval_s: int = 3600
    file_key: str = ""
    controller_name: str = ""
    controller_address: str = ""
    dpo_email: str = ""
    organisation: str = "visavis"
    seal_p12: str = ""
    seal_p12_password: str = ""
    timestamp_url: str = ""
    verify_trust: str = ""
    verify_max_bytes: int = 25 * 1024 * 1024
    verifications_per_minute: int = 10
    recorder: str = ""
    recording_key: str = ""
    redis_url: str = ""
    workers: int = 1
    drain_timeout_s: int = 30
    shutdown_step_timeout_s: int = 10
    log_format: str = "text"
    metrics_token: str = ""
    header_timeout_s: int = 10
    body_idle_s: int = 30
    body_timeout_s: int = 300
    static_dir: str = field(default_factory=lambda: str(Path(__file__).parent / "static"))

    @property
    def origin(self) -> str:
        return self.public_url.rstrip("/")

    @property
    def files_dir(self) -> Path:
        """Uploaded and library files, content-addressed."""
        return Path(self.data_dir) / "files"

    @property
    def page_cache_dir(self) -> Path:
        """Rendered page images; safe to delete at any time."""
        return Path(self.data_dir) / "cache" / "pages"

    @property
    def keys_dir(self) -> Path:
        """Keys kept beside the data (mode 0600): `files.key` unless VISAVIS_FILE_KEY."""
        return Path(self.data_dir) / "keys"

    def retention_overrides(self) -> dict[str, str]:
        """VISAVIS_RETENTION_<KIND>_DAYS by kind, as given ("" = the profile's default)."""
        prefix, suffix = "retention_", "_days"
        return {
            f.name[len(prefix) : -len(suffix)]: getattr(self, f.name)
            for f in fields(self)
            if f.name.startswith(prefix) and f.name.endswith(suffix)
        }

    @property
    def seal_keys_dir(self) -> Path:
        """The organisation's seal key and self-issued certificate (made on first use)
        when no PKCS#12 file is configured."""
        return Path(self.data_dir) / "keys"

    @property
    def tsa_keys_dir(self) -> Path:
        """The local test/demo timestamp authority's key and certificate
        (`python -m visavis.signing.tsa --keys`)."""
        return Path(self.data_dir) / "tsa"

    def verify_trust_files(self) -> tuple[Path, ...]:
        """Further certificates (PEM files, comma-separated) verification trusts."""
        return tuple(Path(p.strip()) for p in self.verify_trust.split(",") if p.strip())

    def cobrowse_origin_list(self) -> tuple[str, ...]:
        """The company websites whose images, styles and fonts the co-browsing mirror
        may load (space- or comma-separated origins such as `https://www.bank.example`)."""
        out = []
        for item in self.cobrowse_origins.replace(",", " ").split():
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", item):
                raise ValueError(f"VISAVIS_COBROWSE_ORIGINS: not an origin: {item!r}")
            out.append(item)
        return tuple(out)

    def topic_list(self) -> list[Topic]:
        out = []
        for item in self.topics.split(","):
            parts = [p.strip() for p in item.split(":")]
            if parts and parts[0]:
                de = parts[1] if len(parts) > 1 else parts[0]
                en = parts[2] if len(parts) > 2 else de
                out.append(Topic(parts[0], de, en))
        return out

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get("VISAVIS_" + f.name.upper())
            if raw is None:
                continue
            if f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("bool", bool):
                values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            else:
                values[f.name] = raw
        values.update(overrides)
        data_dir = Path(values.get("data_dir", cls.data_dir))
        if not values.get("database_url"):
            values["database_url"] = f"sqlite+aiosqlite:///{data_dir / 'visavis.db'}"
        if "chat_linger_us" not in values:
            sqlite = values["database_url"].startswith("sqlite")
            values["chat_linger_us"] = SQLITE_LINGER_US if sqlite else POSTGRES_LINGER_US
        if not values.get("secret_key"):
            values["secret_key"] = load_or_create_secret(data_dir / "secret.key")
        return cls(**values)


def load_or_create_secret(path: Path) -> str:
    """A key kept beside the data, so customer tokens and sessions survive a
    restart (R8.2) without the operator having to set VISAVIS_SECRET_KEY."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key


SETTING_NAMES = [f.name for f in fields(Settings)]
# the server's log lines (the CLI's, and each worker process's)
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
