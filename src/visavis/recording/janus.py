"""The recorder: a managed Janus process and a client for its HTTP API.

Janus runs with the VideoRoom plugin and the HTTP transport only, the transport bound
to 127.0.0.1, no STUN server (it must not reach out; the browsers on the call reach
it on this machine's own address — see `ice_address`). Its configuration is written
into the data directory on each start. One room per recording, one publisher per
participant, `record: true`: Janus writes each track's RTP packets as they arrive
(`.mjr`), without decoding; `postprocess.py` turns them into WebM.

The client speaks Janus's request/transaction protocol: synchronous plugin requests
answer at once, asynchronous ones (join, publish) with an `ack` and later an event,
fetched by one long poll per session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visavis.errors import VisavisError
from visavis.recording.janus_admin import PCAP_SECONDS, JanusAdmin, pcap_path

log = logging.getLogger(__name__)
# httpx is imported where it is used: a server that never records never loads it (with
# its command line: click, rich, pygments), which every start would pay.
# httpx logs every request at INFO: each session's long poll would add a line a second
logging.getLogger("httpx").setLevel(logging.WARNING)

PLUGIN = "janus.plugin.videoroom"
LIB_DIRS = (Path("/usr/lib/x86_64-linux-gnu/janus"), Path("/usr/lib/aarch64-linux-gnu/janus"),
            Path("/usr/lib/janus"))  # fmt: skip
START_TIMEOUT_S = 15.0
REQUEST_TIMEOUT_S = 15.0
# Janus asks each publisher for a keyframe this often (a PLI; 0: only when recording
# starts), so a player can seek without decoding from the start. Its cost is in the
# noise: `bench/recording.py --keyframe-every 0 / 3 / 10` gave Janus 1.5-1.7 % of a
# core per stream either way (Chromium's 640x480 at ~500 kb/s, quiet machine).
KEYFRAME_REQUEST_S = 3


def janus_available() -> bool:
    return shutil.which("janus") is not None and _lib_dir() is not None


def _lib_dir() -> Path | None:
    return next((d for d in LIB_DIRS if (d / "plugins").is_dir()), None)


def ice_address() -> str:
    """This machine's own non-loopback address: what the browsers connect to. Chromium
    offers no loopback candidates, so 127.0.0.1 would never pair."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET: no packet is sent for UDP connect
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(
    conf_dir: Path, port: int, ice_ip: str, admin_port: int, admin_secret: str
) -> None:
    lib = _lib_dir()
    if lib is None:
        raise VisavisError("recorder_unavailable", "janus is not installed (apt install janus)")
    conf_dir.mkdir(parents=True, exist_ok=True)
    plugins = sorted(p.name for p in (lib / "plugins").glob("*.so"))
    transports = sorted(p.name for p in (lib / "transports").glob("*.so"))
    loggers = sorted(p.name for p in (lib / "loggers").glob("*.so"))
    events = sorted(p.name for p in (lib / "events").glob("*.so"))
    off_plugins = ",".join(p for p in plugins if "videoroom" not in p)
    off_transports = ",".join(t for t in transports if "http" not in t)
    (conf_dir / "janus.jcfg").write_text(
        f"""general: {{
  configs_folder = "{conf_dir}"
  plugins_folder = "{lib / "plugins"}"
  transports_folder = "{lib / "transports"}"
  events_folder = "{lib / "events"}"
  loggers_folder = "{lib / "loggers"}"
  debug_level = 3
  admin_secret = "{admin_secret}"
  protected_folders = ["/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr"]
}}
media: {{
  rtp_port_range = "20000-40000"
}}
nat: {{
  ice_enforce_list = "{ice_ip}"
  nice_debug = false
  full_trickle = false
}}
plugins: {{
  disable = "{off_plugins}"
}}
transports: {{
  disable = "{off_transports}"
}}
loggers: {{
  disable = "{",".join(loggers)}"
}}
events: {{
  broadcast = false
  disable = "{",".join(events)}"
}}
"""
    )
    (conf_dir / "janus.transport.http.jcfg").write_text(
        f"""general: {{
  json = "compact"
  base_path = "/janus"
  http = true
  port = {port}
  ip = "127.0.0.1"
  https = false
}}
admin: {{
  admin_base_path = "/admin"
  admin_http = true
  admin_port = {admin_port}
  admin_ip = "127.0.0.1"
  admin_https = false
}}
"""
    )
    # no static rooms: each recording creates its own
    (conf_dir / "janus.plugin.videoroom.jcfg").write_text("general: {\n}\n")


@dataclass
class JanusProcess:
    """Janus as a child process of the server, started on first use."""

    conf_dir: Path
    ice_ip: str = field(default_factory=ice_address)
    port: int = 0
    admin_port: int = 0
    admin_secret: str = ""  # made anew on each start
    _proc: asyncio.subprocess.Process | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/janus"

    @property
    def admin(self) -> JanusAdmin:
        return JanusAdmin(f"http://127.0.0.1:{self.admin_port}/admin", self.admin_secret)

    @property
    def pid(self) -> int | None:
        """Janus's process id while it runs (bench/recording.py measures its CPU)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    async def do_ensure(self) -> str:
        """Janus's URL, starting it if it does not run."""
        async with self._lock:
            if self._proc is not None and self._proc.returncode is None:
                return self.url
            self.port, self.admin_port = _free_port(), _free_port()
            self.admin_secret = secrets.token_urlsafe(16)
            write_config(self.conf_dir, self.port, self.ice_ip, self.admin_port, self.admin_secret)
            log_file = (self.conf_dir / "janus.log").open("ab")
            self._proc = await asyncio.create_subprocess_exec(
                "janus", "-F", str(self.conf_dir), "-C", str(self.conf_dir / "janus.jcfg"),
                "--log-stdout", stdin=asyncio.subprocess.DEVNULL, stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            log_file.close()
            await self._wait_ready()
            log.info("recorder: janus %s started on port %d", self._proc.pid, self.port)
            return self.url

    async def _wait_ready(self) -> None:
        import httpx  # on first use (see the top)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        async with httpx.AsyncClient() as client:
            while True:
                assert self._proc is not None
                if self._proc.returncode is not None:
                    raise VisavisError(
                        "recorder_unavailable",
                        f"janus exited with {self._proc.returncode}; see {self.conf_dir}/janus.log",
                    )
                with contextlib.suppress(httpx.HTTPError):
                    r = await client.get(self.url + "/info", timeout=1.0)
                    if r.status_code == 200 and PLUGIN in r.json().get("plugins", {}):
                        return
                if loop.time() > deadline:
                    raise VisavisError("recorder_unavailable", "janus did not answer within 15 s")
                await asyncio.sleep(0.1)

    async def do_stop(self) -> None:
        async with self._lock:
            proc, self._proc = self._proc, None
            if proc is None or proc.returncode is not None:
                return
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


class JanusSession:
    """One Janus session with a long poll that hands events to their transactions."""

    def __init__(self, url: str) -> None:
        import httpx  # on first use (see the top)

        self.url = url
        self.http = httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S)
        self.session_id: int | None = None
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._poller: asyncio.Task[None] | None = None

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": body.get("transaction") or secrets.token_hex(8)}
        r = await self.http.post(self.url + path, json=body)
        r.raise_for_status()
        reply: dict[str, Any] = r.json()
        if reply.get("janus") == "error":
            raise VisavisError("recorder_failed", f"janus: {reply.get('error')}")
        return reply

    async def do_open(self) -> None:
        self.session_id = (await self._post("", {"janus": "create"}))["data"]["id"]
        self._poller = asyncio.create_task(self._poll())

    async def _poll(self) -> None:
        """Long poll (it also keeps the session alive: Janus drops idle ones)."""
        import httpx  # on first use (see the top)

        while True:
            try:
                r = await self.http.get(
                    f"{self.url}/{self.session_id}", params={"maxev": 10}, timeout=40
                )
                items = r.json()
            except (httpx.HTTPError, ValueError):
                await asyncio.sleep(0.5)
                continue
            for item in items if isinstance(items, list) else [items]:
                waiter = self._waiting.pop(item.get("transaction") or "", None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(item)

    async def do_attach(self) -> int:
        reply = await self._post(f"/{self.session_id}", {"janus": "attach", "plugin": PLUGIN})
        return int(reply["data"]["id"])

    async def request(
        self, handle: int, body: dict[str, Any], jsep: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """A plugin request: its data (`plugindata.data`) and the JSEP it came with."""
        transaction = secrets.token_hex(8)
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[transaction] = waiter
        message: dict[str, Any] = {"janus": "message", "body": body, "transaction": transaction}
        if jsep is not None:
            message["jsep"] = jsep
        try:
            reply = await self._post(f"/{self.session_id}/{handle}", message)
            if reply.get("janus") == "ack":
                reply = await asyncio.wait_for(waiter, REQUEST_TIMEOUT_S)
        finally:
            self._waiting.pop(transaction, None)
        data: dict[str, Any] = reply.get("plugindata", {}).get("data", {})
        if "error" in data:
            raise VisavisError("recorder_failed", f"janus videoroom: {data['error']}")
        return data, reply.get("jsep")

    async def do_trickle_done(self, handle: int) -> None:
        """Every candidate of the browser is in its offer; Janus still waits for this."""
        await self._post(
            f"/{self.session_id}/{handle}", {"janus": "trickle", "candidate": {"completed": True}}
        )

    async def do_close(self) -> None:
        import httpx  # on first use (see the top)

        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        if self.session_id is not None:
            with contextlib.suppress(httpx.HTTPError, VisavisError):
                await self._post(f"/{self.session_id}", {"janus": "destroy"})
        await self.http.aclose()


class RecordingRoom:
    """A recording's room in Janus: one publisher per participant, each written to
    `<rec_dir>/<name>-audio-<mid>.mjr` and `-video-<mid>.mjr`, its packet headers to
    `<rec_dir>/<name>.pcap` (see `pcap_path`)."""

    def __init__(self, url: str, rec_dir: Path, admin: JanusAdmin) -> None:
        self.url = url
        self.rec_dir = rec_dir
        self.admin_api = admin
        self.session = JanusSession(url)
        self.room = secrets.randbelow(2**52) + 1
        self._admin: int | None = None
        self.publishers: dict[str, int] = {}  # participant name -> handle
        self._dump_ends: dict[str, asyncio.Task[None]] = {}

    async def do_create(self) -> None:
        self.rec_dir.mkdir(parents=True, exist_ok=True)
        await self.session.do_open()
        self._admin = await self.session.do_attach()
        await self.session.request(
            self._admin,
            {
                "request": "create", "room": self.room, "permanent": False,
                "publishers": 4, "audiocodec": "opus", "videocodec": "vp8",
                "record": True, "rec_dir": str(self.rec_dir), "fir_freq": KEYFRAME_REQUEST_S,
                "is_private": False,  # listed: checks see every room
            },
        )  # fmt: skip

    async def do_publish(self, name: str, offer_sdp: str) -> str:
        """Publish `name`'s send-only offer (recorded as `name-*.mjr`); Janus's answer."""
        if name in self.publishers:
            raise VisavisError("invalid_state", f"{name} already sends to the recorder")
        handle = await self.session.do_attach()
        self.publishers[name] = handle
        await self.session.request(
            handle, {"request": "join", "ptype": "publisher", "room": self.room, "display": name}
        )
        _data, jsep = await self.session.request(
            handle,
            {"request": "publish", "audio": True, "video": True, "filename": name},
            {"type": "offer", "sdp": offer_sdp},
        )
        if jsep is None or jsep.get("type") != "answer":
            raise VisavisError("recorder_failed", "janus gave no answer to the offer")
        # before the browser has the answer: the dump holds every packet Janus records
        assert self.session.session_id is not None
        try:
            await self.admin_api.do_start_pcap(
                self.session.session_id, handle, pcap_path(self.rec_dir, name)
            )
            self._dump_ends[name] = asyncio.create_task(self._end_dump(handle, PCAP_SECONDS))
        except VisavisError as err:  # recorded all the same, synced by arrival
            log.warning("recorder: no packet dump for %s: %s", name, err)
        await self.session.do_trickle_done(handle)
        return str(jsep["sdp"])

    async def _end_dump(self, handle: int, after_s: float) -> None:
        """Stop the packet dump (which closes its file: Janus buffers it until then)."""
        await asyncio.sleep(after_s)
        assert self.session.session_id is not None
        with contextlib.suppress(VisavisError):
            await self.admin_api.do_stop_pcap(self.session.session_id, handle)

    async def do_unpublish(self, name: str) -> None:
        import httpx  # on first use (see the top)

        handle = self.publishers.pop(name, None)
        dump_end = self._dump_ends.pop(name, None)
        if handle is not None:
            if dump_end is not None and not dump_end.done():
                dump_end.cancel()
                await self._end_dump(handle, 0)
            with contextlib.suppress(VisavisError, httpx.HTTPError):
                await self.session.request(handle, {"request": "unpublish"})

    async def participants(self) -> list[dict[str, Any]]:
        assert self._admin is not None
        data, _ = await self.session.request(
            self._admin, {"request": "listparticipants", "room": self.room}
        )
        return list(data.get("participants", []))

    async def do_close(self) -> None:
        """Unpublish everyone, destroy the room (Janus closes the .mjr files)."""
        import httpx  # on first use (see the top)

        for name in list(self.publishers):
            await self.do_unpublish(name)
        if self._admin is not None:
            with contextlib.suppress(VisavisError, httpx.HTTPError):
                await self.session.request(self._admin, {"request": "destroy", "room": self.room})
        await self.session.do_close()


async def list_rooms(url: str) -> list[dict[str, Any]]:
    """Every room Janus has, private ones too (for checks: no room, no recording)."""
    session = JanusSession(url)
    await session.do_open()
    try:
        handle = await session.do_attach()
        data, _ = await session.request(handle, {"request": "list"})
        return list(data.get("list", []))
    finally:
        await session.do_close()


__all__ = ["JanusProcess", "RecordingRoom", "ice_address", "janus_available", "list_rooms"]
