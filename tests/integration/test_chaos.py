"""Chaos on one node (R8): 50 conversations chat both ways while 200 random sockets
are cut and the server is killed with SIGKILL and restarted on the same database.
Clients resend what got no ack with the same client_id; at the end every
conversation's log holds each message exactly once, each sender's in send order, and
every client saw every seq once. bench/chaos.py is the full run (1,000 cuts)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest
from chaos_run import SERVER_ENV, ChaosPlan, check_logs, run_chaos, setup
from conftest import LiveServer, make_server
from helpers import PASSWORD


def httpx_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def start_patiently(server: LiveServer) -> None:
    try:
        server.start()
    except RuntimeError:  # not up within LiveServer's 30 s: a busy machine
        if server.proc is None or server.proc.poll() is not None:
            raise
        deadline = time.monotonic() + 150
        while not httpx_ok(server.base_url + "/healthz"):
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.1)


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
    start_patiently(server)
    for i, (email, password) in enumerate(advisers):
        server.add_adviser(email, password, f"Chaos {i}", max_chats=plan.chats_per_adviser)

    def kill_and_restart() -> float:
        assert server.proc is not None
        t = time.monotonic()
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()
        server.stop()  # closes the log; the process is gone already
        start_patiently(server)  # same port, same data directory and database
        return time.monotonic() - t

    try:
        adv, customers, tokens = await setup(server.base_url, server.ws_url, advisers, plan)
        result = await run_chaos(plan, server.ws_url, adv, customers, kill_and_restart)
        await check_logs(server.ws_url, adv + customers, tokens, result)
        print(result)
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
    finally:
        server.stop()
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            print(server.log()[-5000:])
