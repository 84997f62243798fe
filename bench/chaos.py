"""Chaos on one node: conversations chatting both ways (1 message/s each way) while
1,000 random sockets are cut (no close handshake) and the server is killed once with
SIGKILL and restarted on the same database. Clients do what docs/protocol.md asks:
reconnect, re-subscribe with their last seq, resend unacked messages with the same
`client_id`. Reported: lost, doubled, out of order (each conversation's log read
afresh at the end; "lost" = acked but not in the log, "not stored" = still unacked in a
client's outbox when the drain ended), seqs a client never received or got twice, the ack latency
(it includes the server's down time) and the restart time; `uptime`'s load before and
after. The run in tests/integration/test_chaos.py is a bounded version (tests/chaos_run.py
is the shared client).

    python bench/chaos.py                                 # 100 conversations, 60 s, SQLite
    python bench/chaos.py --database-url postgresql+asyncpg://…/db   # an empty database
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from dataclasses import asdict

from _common import PASSWORD, ROOT, Server, emit_result, exit_on_sigterm, raise_nofile, table

sys.path.append(str(ROOT / "tests"))  # the chaos client of the test
from chaos_run import SERVER_ENV, ChaosPlan, ChaosResult, check_logs, run_chaos, setup

BENCH = "chaos"
HEADERS = [
    "conv", "sockets", "db", "sent", "stored", "lost", "not stored", "doubled", "out of order",
    "unknown",
    "seq gaps", "seq doubles", "unacked", "refused", "socket cuts", "SIGKILLs", "restart s",
    "connects", "resends", "ack p50 ms", "ack p99 ms", "drain s", "clean",
]  # fmt: skip


def row(r: ChaosResult, db: str) -> list[object]:
    return [
        r.conversations, r.sockets, db, r.sent, r.stored, r.lost, r.not_stored, r.doubled,
        r.out_of_order,
        r.unknown, r.delivery_gaps, r.delivery_doubles, r.unacked,
        ",".join(f"{k}:{v}" for k, v in r.refused.items()) or "0", r.socket_kills,
        r.server_kills, "/".join(f"{s:.1f}" for s in r.restart_s), r.connects, r.resends,
        r.ack_p50_ms, r.ack_p99_ms, r.drain_s, "yes" if r.clean() else "NO",
    ]  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--conversations", type=int, default=100)
    p.add_argument("--chats-per-adviser", type=int, default=20, help="1..50")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of chatting")
    p.add_argument("--rate", type=float, default=1.0, help="messages per second per side")
    p.add_argument("--socket-kills", type=int, default=1000)
    p.add_argument("--server-kills", type=int, default=1)
    p.add_argument(
        "--stall", type=float, default=600.0,
        help="seconds without progress (no ack, event, connect, cut) before the run gives up",
    )  # fmt: skip
    p.add_argument("--database-url", default="", help="an empty database (default: SQLite)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    if not 1 <= args.chats_per_adviser <= 50:
        p.error("--chats-per-adviser must be 1..50")
    return args


def uptime() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_nofile(65536)
    exit_on_sigterm()
    plan = ChaosPlan(
        conversations=args.conversations,
        chats_per_adviser=args.chats_per_adviser,
        duration_s=args.duration,
        rate_hz=args.rate,
        socket_kills=args.socket_kills,
        server_kills=args.server_kills,
        seed=args.seed,
        stall_s=args.stall,
    )
    n_adv = -(-plan.conversations // plan.chats_per_adviser)
    env = dict(SERVER_ENV)
    if args.database_url:
        env["VISAVIS_DATABASE_URL"] = args.database_url
    db = "postgresql" if args.database_url.startswith("postgresql") else "sqlite"
    load_before = uptime()
    print(
        f"chaos: {plan.conversations} conversations ({n_adv} advisers), {plan.duration_s:g} s at "
        f"{plan.rate_hz:g} msg/s each way, {plan.socket_kills} socket cuts, "
        f"{plan.server_kills} SIGKILL(s), {db}; load {load_before}",
        flush=True,
    )
    with Server(env=env, start_timeout_s=120) as server:
        advisers = [(f"chaos{i}@bench.example", PASSWORD) for i in range(n_adv)]
        server.add_advisers(
            [(e, p, f"C{i}", plan.chats_per_adviser) for i, (e, p) in enumerate(advisers)]
        )

        def kill_and_restart() -> float:
            assert server.proc is not None
            t = time.monotonic()
            server.proc.send_signal(signal.SIGKILL)
            server.proc.wait()
            server.proc = None
            if server._log is not None:
                server._log.close()
            server.start()  # same port, data directory and database
            return time.monotonic() - t

        async def kill_and_restart_async() -> float:
            return await asyncio.to_thread(kill_and_restart)

        async def go() -> ChaosResult:
            adv, customers, tokens = await setup(server.base_url, server.ws_url, advisers, plan)
            result = await run_chaos(
                plan, server.ws_url, adv, customers, kill_and_restart_async,
                on_progress=lambda s: print(f"  {s}", flush=True),
            )  # fmt: skip
            await check_logs(server.ws_url, adv + customers, tokens, result)
            return result

        result = asyncio.run(go())
    load_after = uptime()
    print("\n== chaos: socket cuts and a server SIGKILL under chat load ==")
    print(table(HEADERS, [row(result, db)]))
    print(f"load (uptime) before: {load_before}; after: {load_after}")
    clean = "clean: nothing lost, doubled, out of order, unknown, unacked or refused"
    print(clean if result.clean() else "NOT CLEAN: see the columns above")
    emit_result(
        BENCH,
        {
            "ok": result.clean(),
            "db": db,
            "plan": asdict(plan),
            "result": asdict(result),
            "load_before": load_before,
            "load_after": load_after,
        },
    )
    return 0 if result.clean() else 1


if __name__ == "__main__":
    sys.exit(main())
