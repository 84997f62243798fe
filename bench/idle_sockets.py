"""Server memory per idle customer WebSocket.

Creates conversations over HTTP, then opens `--sockets` customer sockets the way the
customer app does (connect, `hello` with the conversation token, `subscribe` to its
conversation), lets them sit idle for `--hold` seconds while each sends only the
app-level `ping` every `heartbeat_s` (± 20 %, as the protocol asks; the server closes
a socket silent for 2.5 x heartbeat_s), and finally pings every socket once more and
counts the answers.

Memory per socket = (server RSS with all sockets open and settled - RSS after the
conversations were created, before the first socket) / sockets. Target: ≤ 30 KB.

`--state active` (default): the conversations were accepted by advisers first
(`--chats-per-adviser` each, their sockets open before the "before" reading), so
each customer is in a running chat where nobody types: the common idle case.
`--state queued`: the customers wait in the queue (no adviser), so every new socket
also triggers a queue recompute that sends `queue.position` to all waiting
customers; the number of those frames is reported.
`--state ended`: each customer ends its conversation first (then idle, no queue).

By default 5 sockets share a conversation (`--sockets-per-conversation`, like tabs):
every created conversation triggers a queue recompute over all waiting ones, so
creating 5,000 conversations takes many minutes (see the create time reported).

`--storm` (after the hold and the final ping): the server is killed (-9) and started
again on the same data, and every socket comes back as the web client does — retrying
with its back-off (0.25 s doubling to 2 s, half of each delay random;
frontend/src/lib/retry-policy.ts; a killed server sends no close 1012, so not the
spread first try that follows one), then hello and subscribe after the last seq it had.
The returning clients run in `--storm-procs` processes (default 4) and speak the
protocol directly on a socket (bench/storm_clients.py): one process of `websockets`
clients was slower than the server, so it measured itself. Reported: how long after
the restarted server first answered (accepted a client's connection or the
/healthz poll, whichever came first) all were back, the server's CPU from that moment
until the last one resubscribed, per socket (targets: 3 s, 1 ms), and the clients'
CPU per socket (from the kill on, so with the refused attempts while the server was
down).

    python bench/idle_sockets.py                           # 5,000 sockets, 70 s hold
    python bench/idle_sockets.py --sockets 1000 --hold 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import random
import sys
import threading
import time
from collections import Counter
from typing import Any

import psutil
from _common import CpuSplit, Server, emit_result, exit_on_sigterm, raise_nofile, table
from idle_clients import (
    Counts,
    IdleSock,
    advisers_accept,
    create_conversations,
    keepalive,
    open_socket,
    wait_quiet,
)
from storm_clients import Report, Share, run_worker

BENCH = "idle_sockets"


async def run(args: argparse.Namespace, server: Server) -> dict[str, Any]:
    rng = random.Random(args.seed)
    proc = server.process()
    out: dict[str, Any] = {}
    n_conv = -(-args.sockets // args.sockets_per_conversation)

    t = time.monotonic()
    convs = await create_conversations(server, n_conv, args.create_concurrency)
    out["create_s"] = time.monotonic() - t
    out["conversations"] = n_conv
    counts = Counts()
    stop = asyncio.Event()
    keepalives: list[asyncio.Task[None]] = []
    loop = asyncio.get_running_loop()
    advisers: list[IdleSock] = []
    if args.state == "active":
        t = time.monotonic()
        advisers = await advisers_accept(server, convs, args, counts)
        keepalives += [loop.create_task(keepalive(a, stop, rng)) for a in advisers]
        out["accept_s"] = time.monotonic() - t
        out["advisers"] = len(advisers)
    await wait_quiet(counts, 2.0, args.settle_max)
    out["rss_before"] = proc.memory_info().rss
    frames_before = counts.other_frames

    socks: list[IdleSock] = []
    sem = asyncio.Semaphore(args.connect_concurrency)
    failures: Counter[str] = Counter()

    async def opener(i: int) -> None:
        cid, token = convs[i % n_conv]
        async with sem:
            try:
                sock = await open_socket(
                    server.ws_url, cid, token, args.state, counts, args.timeout
                )
            except Exception as exc:
                failures[type(exc).__name__] += 1
                return
        sock.conversation = (cid, token)
        socks.append(sock)
        # Like the app: the heartbeat starts as soon as the socket is open.
        keepalives.append(loop.create_task(keepalive(sock, stop, rng)))

    cpu0 = server.cpu_seconds()
    t = time.monotonic()
    half = args.sockets // 2
    await asyncio.gather(*(opener(i) for i in range(half)))
    await wait_quiet(counts, 1.0, args.settle_max)
    out["rss_half"] = proc.memory_info().rss
    out["open_half"] = len(socks)
    await asyncio.gather(*(opener(i) for i in range(half, args.sockets)))
    out["open_s"] = time.monotonic() - t
    out["open_failures"] = dict(failures)
    out["settle_s"] = await wait_quiet(counts, 2.0, args.settle_max)
    out["server_cpu_open_s"] = server.cpu_seconds() - cpu0
    out["rss_open"] = proc.memory_info().rss
    out["queue_position_frames_open"] = counts.queue_position
    out["other_frames_open"] = counts.other_frames - frames_before
    out["open"] = len(socks)

    # Idle hold, sockets kept alive by app-level pings only.
    cpu0, t = server.cpu_seconds(), time.monotonic()
    rss_samples = []
    hold_end = loop.time() + args.hold
    for _ in range(10_000):
        left = hold_end - loop.time()
        if left <= 0:
            break
        await asyncio.sleep(min(5.0, left))
        rss_samples.append(proc.memory_info().rss)
    stop.set()
    await asyncio.gather(*keepalives)
    out["keepalive_pings"] = counts.keepalive_pings
    hold_s = max(1e-9, time.monotonic() - t)
    out["server_cpu_hold_pct"] = 100 * (server.cpu_seconds() - cpu0) / hold_s
    out["rss_hold_max"] = max(rss_samples, default=out["rss_open"])
    out["closed_during_hold"] = counts.closed

    # Every socket must still answer a ping.
    t = time.monotonic()

    async def ping(sock: IdleSock) -> bool:
        try:
            answer = await sock.request("ping", args.timeout)
        except Exception:
            return False
        return bool(answer["type"] == "pong")

    answers = await asyncio.gather(*(ping(s) for s in socks))
    out["ping_s"] = time.monotonic() - t
    out["pong"] = sum(answers)
    out["rss_end"] = proc.memory_info().rss
    out["server_fds"] = proc.num_fds()
    out["close_codes"] = {str(k): v for k, v in counts.close_codes.items()}

    if args.storm:
        await storm(server, socks, args, out)
        socks = []

    t = time.monotonic()
    close_sem = asyncio.Semaphore(500)

    async def closer(sock: IdleSock) -> None:
        async with close_sem:
            await sock.close()

    await asyncio.gather(*(closer(s) for s in socks + advisers))
    out["close_s"] = time.monotonic() - t
    out["client_rss"] = psutil.Process().memory_info().rss
    return out


async def storm(
    server: Server, socks: list[IdleSock], args: argparse.Namespace, out: dict[str, Any]
) -> None:
    """kill -9 and restart the server; every socket comes back (see the docstring),
    from `--storm-procs` client processes (bench/storm_clients.py)."""
    loop = asyncio.get_running_loop()
    ctx = multiprocessing.get_context("spawn")
    shares: list[list[tuple[str, str, int]]] = [[] for _ in range(args.storm_procs)]
    for i, sock in enumerate(socks):
        cid, token = sock.conversation
        shares[i % args.storm_procs].append((cid, token, sock.last_seq))
    pipes, procs = [], []
    for i, share in enumerate(shares):
        mine, theirs = ctx.Pipe()
        work = Share(server.ws_url, share, args.seed + 1 + i, args.timeout)
        proc = ctx.Process(target=run_worker, args=(work, theirs), daemon=True)
        proc.start()
        pipes.append(mine)
        procs.append(proc)
    answered: list[float] = []  # when the restarted server first answered /healthz
    cpu_samples: list[tuple[float, CpuSplit]] = []  # (time.monotonic(), server CPU so far)
    sampling = threading.Event()

    def sample_cpu() -> None:
        # the server may serve sockets before the /healthz poll gets its answer: its
        # CPU is known for any moment since it was started, to 20 ms
        while not sampling.wait(0.02):
            with contextlib.suppress(AssertionError, psutil.Error):
                cpu_samples.append((time.monotonic(), server.cpu_split()))

    def restart() -> None:
        server.start()  # returns once /healthz answers
        answered.append(time.monotonic())

    def collect() -> list[Report]:
        return [pipe.recv() for pipe in pipes]

    try:
        server.kill()
        killed = time.monotonic()
        for pipe in pipes:
            pipe.send("go")
        await asyncio.gather(*(s.close() for s in socks))
        sampler = threading.Thread(target=sample_cpu)
        sampler.start()
        try:
            reports = await asyncio.gather(
                loop.run_in_executor(None, collect), loop.run_in_executor(None, restart)
            )
        finally:
            sampling.set()
            sampler.join()
        end = server.cpu_split()
        first = min([r.first_accept for r in reports[0] if r.first_accept] + answered)
        before = [cpu for t, cpu in cpu_samples if t <= first]
        start = before[-1] if before else CpuSplit(0.0, 0.0, 0.0)
        back_at = [t for r in reports[0] for t in r.back_at]
        failures: Counter[str] = Counter()
        for r in reports[0]:
            failures.update(r.failures)
        n = max(1, len(back_at))
        out["storm_sockets_back"] = len(back_at)
        out["storm_restart_s"] = first - killed
        out["storm_healthz_after_s"] = answered[0] - first
        out["storm_all_back_after_answer_s"] = max(back_at, default=first) - first
        out["storm_server_user_s"] = end.user - start.user
        out["storm_server_system_s"] = end.system - start.system
        out["storm_server_loop_s"] = end.loop - start.loop
        out["storm_server_cpu_s"] = out["storm_server_user_s"] + out["storm_server_system_s"]
        out["storm_server_cpu_ms_per_socket"] = 1000 * out["storm_server_cpu_s"] / n
        out["storm_attempts"] = sum(r.attempts for r in reports[0])
        out["storm_failures"] = dict(failures)
        out["storm_client_cpu_s"] = sum(r.cpu_s for r in reports[0])
        out["storm_client_cpu_ms_per_socket"] = 1000 * out["storm_client_cpu_s"] / n
        t = time.monotonic()
        for pipe in pipes:
            pipe.send("close")
        await loop.run_in_executor(None, lambda: [pipe.recv() for pipe in pipes])
        out["storm_close_s"] = time.monotonic() - t
    finally:
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sockets", type=int, default=5000)
    p.add_argument("--sockets-per-conversation", type=int, default=5)
    p.add_argument("--state", choices=["active", "queued", "ended"], default="active")
    p.add_argument("--chats-per-adviser", type=int, default=50, help="--state active: 1..50")
    p.add_argument("--hold", type=float, default=70.0, help="idle seconds (> 62 s tests keepalive)")
    p.add_argument("--target-kb", type=float, default=30.0)
    p.add_argument("--connect-concurrency", type=int, default=100)
    p.add_argument("--create-concurrency", type=int, default=16)
    p.add_argument("--settle-max", type=float, default=120.0)
    p.add_argument("--timeout", type=float, default=60.0, help="per request")
    p.add_argument("--log-level", default="warning", help="server log level")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--storm", action="store_true", help="then kill -9, restart, and all reconnect")
    p.add_argument(
        "--storm-procs", type=int, default=4, help="client processes that reconnect (--storm)"
    )
    args = p.parse_args(argv)
    if not 1 <= args.chats_per_adviser <= 50:
        p.error("--chats-per-adviser must be 1..50 (the server's limit)")
    if not 1 <= args.sockets <= 20000 or args.sockets_per_conversation < 1:
        p.error("--sockets must be 1..20000, --sockets-per-conversation >= 1")
    if not 1 <= args.storm_procs <= 64:
        p.error("--storm-procs must be 1..64")
    if not 0 <= args.hold <= 600:
        p.error("--hold must be 0..600")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    exit_on_sigterm()
    need = 2 * args.sockets + 1000  # client + server (the server inherits the limit)
    limit = raise_nofile(need)
    if limit < args.sockets + 500:
        msg = f"open-file limit {limit} is too low for {args.sockets} sockets"
        print(f"error: {msg}", file=sys.stderr)
        return 2
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    env = {
        "VISAVIS_CONVERSATIONS_PER_MINUTE": "10000000",
        "VISAVIS_LOGIN_ATTEMPTS_PER_MINUTE": "100000",
        "VISAVIS_WS_FRAMES_PER_SECOND": "1000",  # adviser sockets accept 50 chats in a burst
        "VISAVIS_WS_FRAME_BURST": "2000",
        "VISAVIS_LOG_LEVEL": args.log_level,
    }
    print(
        f"idle_sockets: {args.sockets} customer sockets ({args.state}), "
        f"{args.sockets_per_conversation} per conversation, hold {args.hold:g} s, "
        f"RLIMIT_NOFILE {limit}",
        flush=True,
    )
    error = ""
    res: dict[str, Any] = {}
    try:
        with Server(env=env, start_timeout_s=120.0) as server:
            res = asyncio.run(run(args, server))
            if not server.alive():
                error = "the server died"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"

    ok = False
    if res:
        n = max(1, res["open"])
        per_socket_kb = kb(res["rss_open"] - res["rss_before"]) / n
        per_socket_end_kb = kb(res["rss_end"] - res["rss_before"]) / n
        second = max(1, res["open"] - res["open_half"])
        marginal_kb = kb(res["rss_open"] - res["rss_half"]) / second
        all_pong = res["pong"] == args.sockets
        meets = per_socket_kb <= args.target_kb
        ok = not error and all_pong
        if not all_pong and not error:
            error = f"only {res['pong']}/{args.sockets} sockets answered the final ping"
        codes = str(res["close_codes"] or "")
        rows = [
            ["conversations created", res["conversations"], f"{res['create_s']:.1f} s"],
            ["sockets open (hello+subscribe)", res["open"], f"{res['open_s']:.1f} s"],
            ["open failures", sum(res["open_failures"].values()), str(res["open_failures"] or "")],
            ["advisers (sockets open before 'before')", res.get("advisers", 0),
             f"accepted all in {res.get('accept_s', 0):.1f} s"],
            ["queue.position frames while opening", res["queue_position_frames_open"],
             f"settled after {res['settle_s']:.1f} s"],
            ["server CPU while opening", f"{res['server_cpu_open_s']:.1f} s", ""],
            ["server RSS before sockets", f"{kb(res['rss_before']) / 1024:.1f} MB", ""],
            ["server RSS, all open", f"{kb(res['rss_open']) / 1024:.1f} MB", ""],
            ["server RSS, max during hold", f"{kb(res['rss_hold_max']) / 1024:.1f} MB", ""],
            ["server RSS, end", f"{kb(res['rss_end']) / 1024:.1f} MB", ""],
            ["KB per socket (open)", f"{per_socket_kb:.1f}", f"target <= {args.target_kb:g}"],
            ["KB per socket (end)", f"{per_socket_end_kb:.1f}", "after the hold"],
            ["KB per socket (2nd half only)", f"{marginal_kb:.1f}", "marginal cost, warm server"],
            ["held idle", f"{args.hold:g} s", f"{res['keepalive_pings']} keepalive pings"],
            ["server CPU while idle", f"{res['server_cpu_hold_pct']:.1f} %", ""],
            ["closed by server during hold", res["closed_during_hold"], codes],
            ["answered final ping", f"{res['pong']}/{args.sockets}", f"{res['ping_s']:.1f} s"],
            ["server open fds at end", res["server_fds"], ""],
            ["client RSS", f"{kb(res['client_rss']) / 1024:.0f} MB", ""],
        ]  # fmt: skip
        if args.storm:
            back = f"{res['storm_sockets_back']}/{res['open']}"
            tries = (
                f"{res['storm_attempts']} attempts; restart took {res['storm_restart_s']:.1f} s,"
                f" /healthz {res['storm_healthz_after_s']:.1f} s later"
            )
            after = f"{res['storm_all_back_after_answer_s']:.2f} s"
            per = f"{res['storm_server_cpu_ms_per_socket']:.2f} ms"
            cpu = (
                f"{res['storm_server_cpu_s']:.1f} s in all ({res['storm_server_system_s']:.1f} s"
                f" in the kernel, {res['storm_server_loop_s']:.1f} s in the event loop's thread);"
                " target <= 1 ms"
            )
            client = f"{res['storm_client_cpu_ms_per_socket']:.2f} ms"
            client_note = f"{res['storm_client_cpu_s']:.1f} s in {args.storm_procs} processes"
            rows += [
                ["storm: back after kill -9 + restart", back, tries],
                ["storm: failed attempts", str(res["storm_failures"] or ""), ""],
                ["storm: all back after the server answered", after, "target <= 3 s"],
                ["storm: server CPU per socket", per, cpu],
                ["storm: client CPU per socket", client, client_note],
            ]
        print(table(["metric", "value", "note"], rows))
        print(
            f"\n{'PASS' if ok and meets else 'FAIL'}: {per_socket_kb:.1f} KB per idle socket "
            f"(target <= {args.target_kb:g}), {res['pong']}/{args.sockets} answered the final ping"
        )
        res.update(
            kb_per_socket=per_socket_kb,
            kb_per_socket_end=per_socket_end_kb,
            kb_per_socket_marginal=marginal_kb,
            target_kb=args.target_kb,
            meets_target=meets,
            sockets=args.sockets,
            state=args.state,
            hold_s=args.hold,
        )
    if error:
        print(f"error: {error}", file=sys.stderr)
    emit_result(BENCH, {"ok": ok, "error": error or None, **res})
    return 0 if ok else 1


def kb(n_bytes: float) -> float:
    return n_bytes / 1024


if __name__ == "__main__":
    sys.exit(main())
