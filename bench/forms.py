"""Forms filled in together: a field change until the other side has it, next to a
chat message's delivery in the same run.

`--n` conversations on a real server (SQLite), each with an adviser socket and a
customer socket and an open form (the template `every-kind` of the tests: 16 fields,
a condition, formats checked by schwifty and phonenumbers). For `--duration` seconds
both sides send, each at `--rate` per second and interleaved: a chat message, and a
change of their own field of the form (the customer's `note`, the adviser's `name`:
no conflicts, so every change is stored), based on the revision their previous,
acknowledged change made (as the UI does: one change per field on its way at a
time). The send time (CLOCK_MONOTONIC, ns) is the first word of the text or value;
the latency is send → the `event` arriving at the other side's socket. A change is
validated with jsonschema over the whole form, stored and announced, so it is
compared with the chat message, which is only stored and announced. Rendering in the
browser is not part of either.

Target: form change p99 <= 2 x chat p99 (the result line's `ratio_p99`).

    python bench/forms.py
    python bench/forms.py --n 20 --duration 20 --rate 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from _common import (
    PASSWORD,
    ROOT,
    Server,
    emit_result,
    exit_on_sigterm,
    percentile,
    table,
)

BENCH = "forms"
TARGET_RATIO = 2.0
TEMPLATE = ROOT / "tests"  # forms_samples.py makes the test template


@dataclass
class Samples:
    chat_ms: list[float] = field(default_factory=list)
    form_ms: list[float] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=lambda: {"chat": 0, "form": 0})
    refused: dict[str, int] = field(default_factory=dict)


class Side:
    """One socket: sends, matches answers to requests, times the other side's events."""

    def __init__(self, ws: Any, role: str, samples: Samples) -> None:
        self.ws = ws
        self.role = role
        self.samples = samples
        self.answers: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.opened: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.next_id = 0
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                now = time.monotonic_ns()
                frame = json.loads(raw)
                fid = frame.get("id")
                if fid in self.answers:
                    self.answers.pop(fid).set_result(frame)
                if frame.get("type") != "event" or frame["author"]["role"] == self.role:
                    continue
                kind, body = frame["kind"], frame["body"]
                if kind == "form.opened" and not self.opened.done():
                    self.opened.set_result(body)
                elif kind == "chat.message":
                    self.samples.chat_ms.append((now - int(body["text"].split()[0])) / 1e6)
                elif kind == "form.changed" and isinstance(body["value"], str):
                    self.samples.form_ms.append((now - int(body["value"].split()[0])) / 1e6)

    async def request(self, type: str, **fields: Any) -> dict[str, Any]:
        self.next_id += 1
        fid = f"b{self.next_id}"
        answer = asyncio.get_running_loop().create_future()
        self.answers[fid] = answer
        await self.ws.send(json.dumps({"v": 1, "type": type, "id": fid, **fields}))
        return await asyncio.wait_for(answer, 30)

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self.reader, return_exceptions=True)


async def connect(url: str, role: str, samples: Samples, cookie: str | None = None) -> Side:
    headers = {"Cookie": f"visavis_session={cookie}"} if cookie else None
    ws = await websockets.connect(
        url, additional_headers=headers, compression=None, ping_interval=None, proxy=None
    )
    return Side(ws, role, samples)


async def talk(side: Side, cid: str, form_id: str, field_name: str, args: argparse.Namespace,
               start: float, samples: Samples) -> None:  # fmt: skip
    """Alternate a chat message and a change of this side's field until the end."""
    period = 1.0 / args.rate
    rev, k = 0, 0
    at = start
    while at < start + args.duration:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        stamp = time.monotonic_ns()
        if k % 2 == 0:
            samples.sent["chat"] += 1
            answer = await side.request("chat.send", conversation_id=cid,
                                        client_id=f"bench-{side.role}-{k:06d}-{cid[:8]}",
                                        text=f"{stamp} Nachricht {k}")  # fmt: skip
        else:
            samples.sent["form"] += 1
            answer = await side.request(
                "form.change", conversation_id=cid, form_id=form_id, field=field_name,
                value=f"{stamp} {k}", rev=rev,
            )  # fmt: skip
            if answer["type"] == "ack":
                rev += 1
        if answer["type"] == "error":
            samples.refused[answer["code"]] = samples.refused.get(answer["code"], 0) + 1
        k += 1
        at += period


async def run(server: Server, args: argparse.Namespace) -> Samples:
    samples = Samples()
    async with httpx.AsyncClient(base_url=server.base_url, trust_env=False, timeout=60) as http:
        r = await http.post("/api/v1/session", json={"email": "anna@bench.example",
                                                      "password": PASSWORD})  # fmt: skip
        r.raise_for_status()
        cookie = r.cookies["visavis_session"]
        adviser = await connect(server.ws_url, "adviser", samples, cookie)
        await adviser.request("hello")
        await adviser.request("status.set", status="available")
        convs: list[tuple[str, Side, str]] = []
        for i in range(args.n):
            body = {"customer_name": f"Kundin {i}", "language": "de"}
            r = await http.post("/api/v1/conversations", json=body)
            r.raise_for_status()
            cid, token = r.json()["conversation"]["id"], r.json()["token"]
            customer = await connect(server.ws_url, "customer", samples)
            await customer.request("hello", token=token)
            await customer.request("subscribe", conversation_id=cid, after_seq=0)
            assert (await adviser.request("conversation.accept", conversation_id=cid))[
                "type"
            ] == "ack"
            opened = await adviser.request(
                "form.open", conversation_id=cid, template_id="every-kind"
            )
            assert opened["type"] == "ack", opened
            body = await asyncio.wait_for(customer.opened, 30)
            convs.append((cid, customer, body["form_id"]))
    start = time.monotonic() + 0.5
    await asyncio.gather(
        *(talk(customer, cid, fid, "note", args, start + i * 0.37 / args.n, samples)
          for i, (cid, customer, fid) in enumerate(convs)),
        *(talk(adviser, cid, fid, "name", args, start + 0.5 / args.rate + i * 0.37 / args.n,
               samples) for i, (cid, _c, fid) in enumerate(convs)),
    )  # fmt: skip
    await asyncio.sleep(1.0)  # the last deliveries
    await asyncio.gather(adviser.close(), *(c.close() for _cid, c, _f in convs))
    return samples


def stats(values: list[float]) -> dict[str, float]:
    s = sorted(values)
    if not s:
        return {"n": 0, "p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    return {"n": len(s), "p50_ms": round(percentile(s, 50), 2),
            "p99_ms": round(percentile(s, 99), 2), "max_ms": round(s[-1], 2)}  # fmt: skip


def add_template(server: Server) -> None:
    """The tests' template, through the CLI (as an operator adds one)."""
    sys.path.insert(0, str(TEMPLATE))
    from forms_samples import every_kind_json

    path = server.dir / "every-kind.json"
    path.write_bytes(every_kind_json())
    subprocess.run([sys.executable, "-m", "visavis", "form", "add", str(path)], env=server.env,
                   check=True, capture_output=True, timeout=120, cwd=server.dir)  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=10, help="conversations (1..50), each with a form")
    p.add_argument("--duration", type=float, default=15.0, help="seconds of sending")
    p.add_argument("--rate", type=float, default=2.0, help="frames per second per side")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    exit_on_sigterm()
    args = parse_args(argv)
    # the adviser's one socket sends for all n conversations (as the console does)
    frames_per_s = max(100, int(4 * args.n * args.rate))
    env = {"VISAVIS_CONVERSATIONS_PER_MINUTE": "100000", "VISAVIS_LOG_LEVEL": "warning",
           "VISAVIS_MAX_CHATS": str(max(3, args.n)),
           "VISAVIS_WS_FRAMES_PER_SECOND": str(frames_per_s),
           "VISAVIS_WS_FRAME_BURST": str(2 * frames_per_s)}  # fmt: skip
    load_before = os.getloadavg()
    with Server(env=env) as server:
        server.add_advisers([("anna@bench.example", PASSWORD, "Anna", min(50, max(3, args.n)))])
        add_template(server)
        cpu0 = server.cpu_seconds()
        samples = asyncio.run(run(server, args))
        cpu = server.cpu_seconds() - cpu0
    chat, form = stats(samples.chat_ms), stats(samples.form_ms)
    ratio = round(form["p99_ms"] / chat["p99_ms"], 2) if chat["p99_ms"] else float("nan")
    rows = [
        [what, st["n"], samples.sent[key], st["p50_ms"], st["p99_ms"], st["max_ms"]]
        for what, key, st in (("chat message", "chat", chat), ("form field change", "form", form))
    ]
    print()
    print(table(["what", "delivered", "sent", "p50 ms", "p99 ms", "max ms"], rows))
    print()
    print(f"form p99 / chat p99 = {ratio} (target <= {TARGET_RATIO}); server CPU {cpu:.1f} s; "
          f"refused {samples.refused or 0}; load average before {load_before}, "
          f"after {os.getloadavg()}; {os.cpu_count()} cores")  # fmt: skip
    ok = ratio <= TARGET_RATIO and not samples.refused and form["n"] == samples.sent["form"]
    emit_result(BENCH, {"n": args.n, "duration_s": args.duration, "rate": args.rate,
                        "chat": chat, "form": form, "ratio_p99": ratio,
                        "target_ratio": TARGET_RATIO, "refused": samples.refused,
                        "server_cpu_s": round(cpu, 2), "pass": ok})  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
