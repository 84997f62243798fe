"""Operations endpoints: Prometheus metrics (/metrics), liveness (/healthz) and
readiness (/readyz). docs/operations.md lists the metrics.

Processes: each process counts its own; with `PROMETHEUS_MULTIPROC_DIR` set (what
`serve --workers` needs) prometheus-client's multiprocess mode adds the workers'
files up on every scrape: counters and histograms summed, the socket gauge summed
over live processes, queue length and bus lag their maximum.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from visavis.errors import VisavisError

log = logging.getLogger(__name__)

SOCKETS = Gauge("visavis_websockets", "Open WebSocket connections", multiprocess_mode="livesum")
WORKER_SOCKETS = Gauge(
    "visavis_worker_websockets",
    "Open WebSocket connections per worker process (serve --workers; one process: 0)",
    ["worker"],
    multiprocess_mode="livesum",
)
HANDOFFS = Counter(
    "visavis_ws_handoffs",
    "WebSockets moved to the worker process of their adviser (web/handoff.py); result: "
    "sent, received, or failed (the sending worker kept the socket)",
    ["result"],
)
FRAMES_IN = Counter(
    "visavis_ws_frames_received", "Client frames received (rate(): messages per second)"
)
FRAMES_REFUSED = Counter(
    "visavis_ws_frames_refused", "Client frames answered with an error", ["code"]
)
WRITE_SECONDS = Histogram(
    "visavis_write_seconds",
    "Writing database transactions from start to commit (the SQLite write lock's wait included)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
CHAT_GROUPS = Histogram(
    "visavis_chat_group_messages",
    "Chat messages per group commit (sum / count: messages per transaction; small "
    "groups cost the most CPU per message)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 500),
)
QUEUE_LENGTH = Gauge(
    "visavis_queue_length",
    "Conversations waiting for an adviser (at scrape time)",
    multiprocess_mode="max",
)
BUS_LAG = Gauge(
    "visavis_bus_lag_seconds",
    "Delay from publishing to receiving on the bus (the in-memory bus: 0)",
    multiprocess_mode="max",
)


def observe_write(seconds: float) -> None:
    WRITE_SECONDS.observe(seconds)


def observe_chat_group(messages: int) -> None:
    CHAT_GROUPS.observe(messages)


def observe_bus_lag(seconds: float) -> None:
    """The hook a bus between processes feeds with the delay it measured."""
    BUS_LAG.set(seconds)


def check_metrics_access(request: Request, token: str) -> None:
    """Metrics tell about load and use: only for loopback (a local scraper or a proxy
    on the host that forwards nothing from outside) or with the bearer token."""
    if token:
        given = request.headers.get("authorization", "")
        if secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return
    host = request.client.host if request.client else ""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise VisavisError("forbidden", "metrics: only from loopback or with the bearer token")


class Operations:
    def __init__(
        self,
        metrics_token: str,
        queue_length: Callable[[], Awaitable[int]],
        database_ready: Callable[[], Awaitable[str | None]],
        bus_ready: Callable[[], str | None],
    ) -> None:
        self.metrics_token = metrics_token
        self.queue_length = queue_length
        self.database_ready = database_ready
        self.bus_ready = bus_ready

    async def metrics(self, request: Request) -> Response:
        check_metrics_access(request, self.metrics_token)
        QUEUE_LENGTH.set(await self.queue_length())
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        else:
            registry = REGISTRY
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def healthz(self, request: Request) -> Response:
        """Liveness: the process answers (restart it when it does not)."""
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        """Readiness: the database answers and its schema is current, the bus is
        connected. 503 with what is wrong otherwise (send no traffic here)."""
        started = time.monotonic()
        problems: dict[str, str] = {}
        try:
            db_problem = await self.database_ready()
        except Exception as exc:  # unreachable database: any driver error
            db_problem = f"unreachable: {type(exc).__name__}"
        if db_problem:
            problems["database"] = db_problem
        if bus_problem := self.bus_ready():
            problems["bus"] = bus_problem
        if problems:
            log.warning("not ready: %s", problems)
            return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
        took = round(time.monotonic() - started, 4)
        return JSONResponse({"status": "ok", "checked_in_s": took})
