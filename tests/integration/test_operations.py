"""Operations: /metrics (Prometheus, loopback or bearer token), /healthz (liveness),
/readyz (readiness: database, schema, bus) and JSON logs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, make_server
from helpers import sample
from wsclient import WsClient, cid, new_conversation


async def test_metrics_count_sockets_frames_and_writes(live_server: LiveServer) -> None:
    conv_id, token = await new_conversation(live_server.base_url)
    ws = await WsClient.connect(live_server.ws_url, token=token)
    await ws.request("subscribe", conversation_id=conv_id, after_seq=0)
    await ws.request("chat.send", conversation_id=conv_id, client_id=cid(), text="Hallo")
    await ws.send_raw("{not json")
    await ws.expect("error")
    async with httpx.AsyncClient(base_url=live_server.base_url) as c:
        r = await c.get("/metrics")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/plain")
        text = r.text
    assert sample(text, "visavis_websockets") == 1
    assert sample(text, "visavis_ws_frames_received_total") >= 3
    assert 'visavis_ws_frames_refused_total{code="bad_json"} 1.0' in text
    assert sample(text, "visavis_write_seconds_count") >= 1
    # the one chat message, in a group commit of its own
    assert sample(text, "visavis_chat_group_messages_count") == 1
    assert sample(text, "visavis_chat_group_messages_sum") == 1
    assert sample(text, "visavis_queue_length") == 1
    assert sample(text, "visavis_bus_lag_seconds") == 0
    await ws.close()


@pytest.fixture
def token_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = make_server(tmp_path, VISAVIS_METRICS_TOKEN="scrape-secret-1")
    server.start()
    yield server
    server.stop()


async def test_metrics_only_for_loopback_or_the_token(token_server: LiveServer) -> None:
    # uvicorn takes X-Forwarded-For from a proxy on loopback: a request from outside
    outside = {"X-Forwarded-For": "203.0.113.9"}
    async with httpx.AsyncClient(base_url=token_server.base_url) as c:
        r = await c.get("/metrics", headers=outside)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        wrong = {**outside, "Authorization": "Bearer nope"}
        assert (await c.get("/metrics", headers=wrong)).status_code == 403
        right = {**outside, "Authorization": "Bearer scrape-secret-1"}
        assert (await c.get("/metrics", headers=right)).status_code == 200
        assert (await c.get("/metrics")).status_code == 200  # loopback


async def test_health_and_readiness(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url) as c:
        assert (await c.get("/healthz")).json() == {"status": "ok"}
        ready = await c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ok", ready.text
        # a database behind the code's schema: not ready, and says why
        db = sqlite3.connect(live_server.data_dir / "visavis.db")
        (old,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
        db.execute("UPDATE alembic_version SET version_num = 'older'")
        db.commit()
        try:
            r = await c.get("/readyz")
            assert r.status_code == 503, r.text
            assert "older" in r.json()["problems"]["database"]
            assert (await c.get("/healthz")).status_code == 200  # alive all the same
        finally:
            db.execute("UPDATE alembic_version SET version_num = ?", (old,))
            db.commit()
            db.close()
        assert (await c.get("/readyz")).status_code == 200


@pytest.fixture
def json_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = make_server(tmp_path, VISAVIS_LOG_FORMAT="json")
    server.start()
    yield server
    server.stop()


async def test_json_logs_one_object_a_line(json_server: LiveServer) -> None:
    _, token = await new_conversation(json_server.base_url)
    ws = await WsClient.connect(json_server.ws_url, token=token)
    await ws.send_raw("[" * 20_000)
    assert (await ws.expect("error"))["code"] == "bad_json"
    await ws.close()
    lines = [line for line in json_server.log().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any(r["logger"] == "uvicorn.access" for r in records)
    assert any("bad_json" in r["message"] for r in records)
