"""Chaos on one node (R8): 50 conversations chat both ways while 200 random sockets
are cut and the server is killed with SIGKILL (frozen first, so that messages die in
flight) and restarted on the same database.
Clients resend what got no ack with the same client_id; at the end every
conversation's log holds each message exactly once, each sender's in send order, and
every client saw every seq once. bench/chaos.py is the full run (1,000 cuts).

Bounded by progress (chaos_run.py: a phase fails when nothing moved for
`plan.stall_s`), not by seconds: on a loaded machine it takes longer, but ends. On any
failure the run's tasks are cancelled and awaited and the server is killed."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import pytest
from chaos_run import SERVER_ENV, ChaosPlan, check_logs, run_chaos, setup
from conftest import LiveServer, make_server
from helpers import PASSWORD
from until import until

# A server start is a process start, bounded on its own (not by the run's progress):
# at load 13 on 2 cores a start took over 120 s.
START_BOUND_S = 600.0


async def start_patiently(server: LiveServer) -> None:
    """Start the server (same port, data directory and database as before) and return
    once it answers; cancelled, the process is killed."""
    proc = server.spawn()
    deadline = time.monotonic() + START_BOUND_S
    try:
        async with httpx.AsyncClient(timeout=1, trust_env=False) as http:
            while True:
                assert proc.poll() is None, f"server exited:\n{server.log()}"
                assert time.monotonic() < deadline, f"server never answered:\n{server.log()}"
                try:
                    if (await http.get(server.base_url + "/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
    except BaseException:
        server.stop()
        raise


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
@pytest.mark.slow
async def test_socket_cuts_and_a_server_sigkill_lose_and_double_nothing(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_database_url") if kind == "postgresql" else None
    server = make_server(tmp_path, database_url=url, **SERVER_ENV)
    plan = ChaosPlan(
        conversations=50, chats_per_adviser=10, duration_s=12, rate_hz=1,
        socket_kills=200, server_kills=1, seed=7,
    )  # fmt: skip
    advisers = [(f"chaos{i}@bank.example", PASSWORD) for i in range(5)]

    async def kill_and_restart() -> float:
        assert server.proc is not None
        t = time.monotonic()
        # Frozen first until a client has sent a message written since: it dies in
        # flight, unacked, and is resent after the restart. A SIGKILL alone catches one
        # in flight only by chance: a message waits about a millisecond for its ack.
        frozen_ns = time.monotonic_ns()
        server.proc.send_signal(signal.SIGSTOP)
        await until(
            lambda: any(
                m.sent and m.created_ns > frozen_ns
                for c in adv + customers
                for m in c.unacked.values()
            )
        )
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()  # SIGKILL: at once
        server.stop()  # closes the log; the process is gone already
        await start_patiently(server)
        return time.monotonic() - t

    try:
        await start_patiently(server)
        for i, (email, password) in enumerate(advisers):
            server.add_adviser(email, password, f"Chaos {i}", max_chats=plan.chats_per_adviser)
        adv, customers, tokens = await setup(server.base_url, server.ws_url, advisers, plan)
        result = await run_chaos(plan, server.ws_url, adv, customers, kill_and_restart)
        await check_logs(server.ws_url, adv + customers, tokens, result)
        print(result)
        assert result.stalled == "", result
        assert result.server_kills == 1
        assert result.socket_kills == plan.socket_kills
        assert result.sent == 2 * 50 * 12, result
        assert result.stored == result.sent, result
        assert (result.lost, result.doubled, result.out_of_order, result.unknown) == (0, 0, 0, 0), (
            result
        )
        assert (result.delivery_gaps, result.delivery_doubles) == (0, 0), result
        assert result.unacked == 0 and result.not_stored == 0 and result.refused == {}, result
        assert result.resends > 0 and result.connects >= plan.socket_kills, result
    except BaseException:
        print(f"----- server log ({server.log_path}) -----\n{server.log()[-5000:]}")
        raise
    finally:
        server.stop()  # SIGTERM, then SIGKILL after 10 s


async def test_a_run_that_stops_moving_fails_with_every_task_ended(tmp_path: Path) -> None:
    """The server freezes (SIGSTOP) instead of restarting: nothing moves any more, and
    the run ends after stall_s, reporting the stalled drain, with every task it started
    ended, instead of waiting forever. (Fewer cuts than clients: one is always up to be
    cut, so the sending phase ends.) Then the same when the run is cancelled from
    outside mid-restart."""
    server = make_server(tmp_path, **SERVER_ENV)
    plan = ChaosPlan(
        conversations=2, chats_per_adviser=2, duration_s=2, rate_hz=2,
        socket_kills=2, server_kills=1, seed=3, stall_s=3,
    )  # fmt: skip
    advisers = [("stall@bank.example", PASSWORD), ("stall2@bank.example", PASSWORD)]
    restarting = asyncio.Event()

    async def freeze() -> float:
        assert server.proc is not None
        server.proc.send_signal(signal.SIGSTOP)
        return 0.0

    async def hang() -> float:
        restarting.set()
        await asyncio.Event().wait()  # a restart that never ends
        raise AssertionError("unreachable")

    others = asyncio.all_tasks()
    try:
        await start_patiently(server)
        for i, (email, password) in enumerate(advisers):
            server.add_adviser(email, password, f"Stall {i}", max_chats=2)
        adv, customers, _ = await setup(server.base_url, server.ws_url, advisers[:1], plan)
        result = await run_chaos(plan, server.ws_url, adv, customers, freeze)
        assert result.stalled == "draining" and result.unacked > 0, result
        assert not result.clean()
        assert asyncio.all_tasks() == others
        assert server.proc is not None
        server.proc.send_signal(signal.SIGCONT)

        # A restart stops the stall clock (it is bounded on its own): cancelled from
        # outside (a failure beside it, Ctrl-C), the run still ends every task.
        adv, customers, _ = await setup(server.base_url, server.ws_url, advisers[1:], plan)
        run = asyncio.ensure_future(run_chaos(plan, server.ws_url, adv, customers, hang))
        await restarting.wait()
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
        assert asyncio.all_tasks() == others
    finally:
        if server.proc is not None:
            server.proc.send_signal(signal.SIGCONT)
        server.stop()
