"""Running the server: one uvicorn process, or N of them on one listening socket
(`visavis serve --workers N`), each draining gracefully on SIGTERM.

Drain: a node that gets SIGTERM stops accepting connections, closes every
WebSocket with 1012 ("service restart": reconnect now, see docs/protocol.md), ends
the availability streams, and exits once its sockets are gone, or after
VISAVIS_DRAIN_TIMEOUT_S. Behind a proxy the clients land on the other nodes. Every
step after it is bounded too (web/shutdown.py): a node always exits, at the latest
`shutdown_deadline_s` after SIGTERM (a watchdog ends it there).

Workers: the parent binds the port and starts N processes (spawned, each with its
own event loop and app from `visavis.app:create_app`) that accept on it.
They share nothing in memory, so several workers need Redis (VISAVIS_REDIS_URL).
SIGTERM or SIGINT to the parent is passed on to every worker; a worker that dies
on its own is started again; one that outlives its shutdown deadline is killed.

On Linux each worker has a listening socket of its own on the port (SO_REUSEPORT),
and the kernel spreads new connections evenly over them. On one shared socket the
worker that happened to be awake took them: under load one worker of two held 408
connections and the other 240 (bench/scale_out.py; 342 and 302 now). A replaced
worker gets a new socket (what waited in the dead one's backlog is refused, and its
clients reconnect). Before binding, the parent checks that the port is free without
SO_REUSEPORT, so that a second server started on the same port by mistake still
fails, instead of quietly taking half of the connections.

Each worker also has a handoff channel (a Unix socket, web/fdpass.py): a WebSocket
moves to its adviser's worker right after its hello (web/handoff.py), so that a
conversation's sockets share one process and its messages skip the Redis bus.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import secrets
import signal
import socket
import sys
import time
from typing import Any

import uvicorn

from visavis.config import LOG_FORMAT
from visavis.web.fdpass import Channel, channel_address
from visavis.web.handoff import Workers, open_arrivals, set_workers
from visavis.web.hub import Hub
from visavis.web.shutdown import Watchdog, do_step, shutdown_deadline_s

log = logging.getLogger("uvicorn.error")

APP = "visavis.app:create_app"


class DrainingServer(uvicorn.Server):
    def __init__(
        self, config: uvicorn.Config, drain_timeout_s: float, step_timeout_s: float
    ) -> None:
        super().__init__(config)
        self.drain_timeout_s = drain_timeout_s
        self.step_timeout_s = step_timeout_s
        self.watchdog = Watchdog(shutdown_deadline_s(drain_timeout_s, step_timeout_s))
        self.arrivals: Channel | None = None  # sockets other workers hand over

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.arrivals = await open_arrivals(self)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.watchdog.arm()
        if self.arrivals is not None:  # no socket arrives during the drain
            await self.arrivals.stop()
        # Stop accepting first, so that nothing new arrives during the drain; then
        # uvicorn's own shutdown finds (next to) nothing left to close.
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        hubs = list(Hub.live)
        if hubs:

            async def drain() -> None:
                await asyncio.gather(*(hub.drain(self.drain_timeout_s) for hub in hubs))

            # the drain bounds its own wait; this bounds the rest (closing, logging)
            await do_step("drain", drain, self.drain_timeout_s + self.step_timeout_s)
        await super().shutdown(sockets)


def _worker(
    options: dict[str, Any],
    drain_timeout_s: float,
    step_timeout_s: float,
    sock: socket.socket,
    workers: Workers,
) -> None:
    # a spawned process starts afresh: the CLI's logging set-up is not inherited
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    set_workers(workers)  # a socket moves to its adviser's worker (web/handoff.py)
    config = uvicorn.Config(APP, factory=True, **options)
    DrainingServer(config, drain_timeout_s, step_timeout_s).run(sockets=[sock])


def run_workers(
    options: dict[str, Any],
    host: str,
    port: int,
    workers: int,
    drain_timeout_s: float,
    step_timeout_s: float,
) -> None:
    """`options`: uvicorn.Config's keyword arguments besides the app, host, port.
    The workers read their settings from the environment (the caller exports them)."""
    uvicorn.Config(APP, factory=True, **options)  # sets up uvicorn's logging here too
    # fails if the port is taken; with port 0, picks the one port for all workers
    probe = bind_listening(host, port, reuse_port=False)
    if SPREADS_CONNECTIONS:
        port = probe.getsockname()[1]
        probe.close()
    shared = None if SPREADS_CONNECTIONS else probe
    ctx = multiprocessing.get_context("spawn")
    stopping = False
    socks: dict[int, socket.socket] = {}  # worker's index: its listening socket
    nonce = secrets.token_hex(6)
    channels = tuple(channel_address(os.getpid(), i, nonce) for i in range(workers))

    def start(i: int) -> multiprocessing.process.BaseProcess:
        if shared is not None:
            sock = shared
        else:
            old = socks.pop(i, None)
            if old is not None:
                old.close()
            sock = socks[i] = bind_listening(host, port, reuse_port=True)
        proc = ctx.Process(
            target=_worker,
            args=(options, drain_timeout_s, step_timeout_s, sock, Workers(i, workers, channels)),
            daemon=False,
        )
        proc.start()
        return proc

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        # The workers stop accepting and close their copies; with the parent's closed
        # too, the port refuses at once (a proxy tries another node) instead of
        # holding new connections in a backlog nobody accepts from.
        close_listening()
        for proc in procs:
            if proc.pid is not None and proc.exitcode is None:
                try:
                    proc.terminate()  # SIGTERM: each worker drains
                except OSError:
                    pass

    def close_listening() -> None:
        for sock in [*socks.values(), *([shared] if shared else [])]:
            sock.close()

    procs = [start(i) for i in range(workers)]
    log.info("serving on %s:%d with %d worker processes", host, port, workers)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        for i, proc in enumerate(procs):
            if proc.exitcode is not None and not stopping:
                log.error("worker %s exited (%s); starting another", proc.pid, proc.exitcode)
                procs[i] = start(i)
        time.sleep(0.5)
    # Each worker's watchdog ends it by its deadline; should one not (stopped, stuck
    # in C), the parent does not wait for it forever either.
    deadline = time.monotonic() + shutdown_deadline_s(drain_timeout_s, step_timeout_s) + 30
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.exitcode is None:
            log.error(
                "shutdown: worker %s still runs past its shutdown deadline; killing it", proc.pid
            )
            proc.kill()
            proc.join()
    close_listening()


# SO_REUSEPORT spreads connections over the sockets only on Linux (elsewhere the
# last socket bound takes them all, or the option is missing)
SPREADS_CONNECTIONS = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def bind_listening(host: str, port: int, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock
