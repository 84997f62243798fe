"""Forms over a real server (SQLite and PostgreSQL): templates through the CLI and the
admin routes (versions), a form opened, filled in from both sides with live errors, a
conflict, the focus relay, every refusal with nothing stored, submit refused while
invalid, submit, confirm, and the export as JSON and PDF with who may read it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pypdfium2
import pytest
from conftest import LiveServer, make_server
from forms_samples import every_kind, every_kind_json
from helpers import PASSWORD, adviser_socket, session
from wsclient import WsClient, new_conversation

VALID_IBAN = "DE89 3704 0044 0532 0130 00"


@pytest.fixture
async def server(tmp_path: Path, database_url: str) -> AsyncIterator[LiveServer]:
    srv = make_server(tmp_path, database_url)
    template = tmp_path / "every-kind.json"
    template.write_bytes(every_kind_json())
    srv.cli("form", "add", str(template))
    srv.start()
    yield srv
    srv.stop()


async def room(server: LiveServer) -> tuple[WsClient, WsClient, str, str]:
    adviser = await adviser_socket(server)
    conv_id, token = await new_conversation(server.base_url, customer_name="Jürgen Groß")
    customer = await WsClient.connect(server.ws_url, token=token)
    await customer.request("subscribe", conversation_id=conv_id, after_seq=0)
    assert (await adviser.request("conversation.accept", conversation_id=conv_id))["type"] == "ack"
    return adviser, customer, conv_id, token


def pdf_text(data: bytes) -> str:
    pdf = pypdfium2.PdfDocument(data)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


async def changed(ws: WsClient, field: str) -> dict[str, Any]:
    return await ws.wait_for(
        lambda f: f.get("kind") == "form.changed" and f["body"]["field"] == field
    )


async def test_a_form_filled_in_together(server: LiveServer) -> None:
    adviser, customer, cid, token = await room(server)
    # only the adviser opens; the customer is told it is not theirs
    refused = await customer.request("form.open", conversation_id=cid, template_id="every-kind")
    assert refused["code"] == "forbidden"
    ack = await adviser.request("form.open", conversation_id=cid, template_id="every-kind",
                                prefill={"name": "Jürgen Groß", "count": 2})  # fmt: skip
    assert ack["type"] == "ack", ack
    opened = await customer.wait_for(lambda f: f.get("kind") == "form.opened")
    body = opened["body"]
    fid = body["form_id"]
    assert (body["template_id"], body["version"]) == ("every-kind", 1)
    assert body["values"] == {"name": "Jürgen Groß", "count": 2}
    assert body["schema"]["properties"]["iban"]["format"] == "iban"
    assert body["ui"]["fields"]["name"]["label"] == {"de": "Name", "en": "Name"}
    assert body["errors"] == {"agree": [{"code": "required", "detail": None}]}

    # the customer fills in a wrong IBAN: stored, and both see the server's error
    ack = await customer.request("form.change", conversation_id=cid, form_id=fid, field="iban",
                                 value="DE89370400440532013001", rev=0)  # fmt: skip
    assert ack["type"] == "ack", ack
    for ws in (adviser, customer):
        ev = await changed(ws, "iban")
        assert ev["body"]["rev"] == 1 and ev["author"]["role"] == "customer"
        assert ev["body"]["errors"]["iban"] == [{"code": "format", "detail": "iban"}]

    # the adviser, still at revision 0 of that field, is refused with the current value
    stale = await adviser.request("form.change", conversation_id=cid, form_id=fid, field="iban",
                                  value=VALID_IBAN, rev=0)  # fmt: skip
    assert stale["code"] == "form_field_conflict", stale
    assert stale["details"] == {"field": "iban", "rev": 1, "value": "DE89370400440532013001"}
    # based on revision 1 the correction goes in and the error is gone on both sides
    ack = await adviser.request("form.change", conversation_id=cid, form_id=fid, field="iban",
                                value=VALID_IBAN, rev=1)  # fmt: skip
    assert ack["type"] == "ack", ack
    for ws in (adviser, customer):
        ev = await changed(ws, "iban")
        assert ev["body"]["rev"] == 2 and "iban" not in ev["body"]["errors"]

    # structural violations: refused, nothing stored (no event)
    before = await adviser.request("subscribe", conversation_id=cid, after_seq=0)
    assert before["type"] == "subscribed"
    last = before["conversation"]["last_seq"]
    adviser.events(cid)
    for field, value, code in (("ghost", "x", "form_invalid_change"),
                               ("count", "3", "form_invalid_change"),
                               ("agree", "yes", "form_invalid_change"),
                               ("note", "x" * 4001, "form_invalid_change"),
                               ("name", ["a"], "bad_request")):  # fmt: skip
        r = await customer.request("form.change", conversation_id=cid, form_id=fid, field=field,
                                   value=value, rev=0)  # fmt: skip
        assert r["code"] == code, (field, r)
    r = await customer.request("form.change", conversation_id=cid, form_id=fid, field="name",
                               value="x", rev="0")  # fmt: skip
    assert r["code"] == "bad_request"  # strict: a revision is a number, not a string
    r = await customer.request("form.change", conversation_id=cid, form_id="f" * 22, field="name",
                               value="x", rev=0)  # fmt: skip
    assert r["code"] == "not_found"
    again = await adviser.request("subscribe", conversation_id=cid, after_seq=last)
    assert again["conversation"]["last_seq"] == last

    # who is in which field: relayed to the other side only, never answered
    await customer.send("form.focus", conversation_id=cid, form_id=fid, field="phone")
    focus = await adviser.expect("form.focus")
    assert (focus["field"], focus["from"]["role"], focus["form_id"]) == ("phone", "customer", fid)
    bad = await customer.request("form.focus", conversation_id=cid, form_id=fid, field="ghost")
    assert bad["code"] == "form_invalid_change"

    # a conditional field: required once its condition holds
    await customer.request("form.change", conversation_id=cid, form_id=fid, field="answer",
                           value="nein", rev=0)  # fmt: skip
    ev = await changed(adviser, "answer")
    assert ev["body"]["errors"]["why"] == [{"code": "required", "detail": None}]

    # submit: the adviser's, refused with the errors while invalid
    r = await customer.request("form.submit", conversation_id=cid, form_id=fid)
    assert r["code"] == "forbidden"
    r = await adviser.request("form.submit", conversation_id=cid, form_id=fid)
    assert r["code"] == "form_invalid" and set(r["details"]["errors"]) == {"agree", "why"}
    for name, filled in (("agree", True), ("why", "Zu teuer für mich")):
        assert (await customer.request("form.change", conversation_id=cid, form_id=fid,
                                       field=name, value=filled, rev=0))["type"] == "ack"  # fmt: skip
    assert (await adviser.request("form.submit", conversation_id=cid, form_id=fid))["type"] == "ack"
    submitted = await customer.wait_for(lambda f: f.get("kind") == "form.submitted")
    values = submitted["body"]["values"]
    assert values["iban"] == VALID_IBAN and values["why"] == "Zu teuer für mich"
    assert (submitted["body"]["template_id"], submitted["body"]["version"]) == ("every-kind", 1)
    r = await customer.request("form.change", conversation_id=cid, form_id=fid, field="name",
                               value="x", rev=1)  # fmt: skip
    assert r["code"] == "invalid_state"

    # the customer confirms (only the customer)
    r = await adviser.request("form.confirm", conversation_id=cid, form_id=fid)
    assert r["code"] == "forbidden"
    assert (await customer.request("form.confirm", conversation_id=cid, form_id=fid))[
        "type"
    ] == "ack"
    await adviser.wait_for(lambda f: f.get("kind") == "form.confirmed")

    # the result: JSON and PDF, for the conversation's participants only
    _, other_token = await new_conversation(server.base_url, customer_name="Otto")
    server.add_adviser("ben@bank.example", PASSWORD, "Ben")
    server.add_adviser("boss@bank.example", PASSWORD, "Boss", role="supervisor")
    bearer = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=server.base_url, headers=bearer) as cust,
        httpx.AsyncClient(base_url=server.base_url,
                          headers={"Authorization": f"Bearer {other_token}"}) as other,
        httpx.AsyncClient(base_url=server.base_url) as nobody,
        await session(server, "anna@bank.example") as anna,
        await session(server, "ben@bank.example") as ben,
        await session(server, "boss@bank.example") as boss,
    ):  # fmt: skip
        record = (await cust.get(f"/api/v1/forms/{fid}")).json()
        assert record["status"] == "confirmed" and record["values"] == values
        assert record["version"] == 1 and len(record["digest"]) == 64
        assert record["digest"] == submitted["body"]["digest"]
        assert (await anna.get(f"/api/v1/forms/{fid}")).json() == record
        assert (await boss.get(f"/api/v1/forms/{fid}")).json() == record  # supervisors read all
        resp = await cust.get(f"/api/v1/forms/{fid}/pdf")
        assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
        assert resp.headers["content-disposition"].startswith("attachment")
        text = pdf_text(resp.content)
        for shown in ("Alle Arten", "Jürgen Groß", "Zu teuer für mich", "Nein", "Einverstanden",
                      "Ja", "DE89 3704 0044 0532 0130 00", record["digest"]):  # fmt: skip
            assert shown in text, (shown, text)
        english = pdf_text(
            (await anna.get(f"/api/v1/forms/{fid}/pdf", params={"lang": "en"})).content
        )
        assert "Every kind" in english and "Agreed" in english and "Yes" in english
        for client, code in ((other, "forbidden"), (ben, "forbidden"), (nobody, "unauthorized")):
            for path in (f"/api/v1/forms/{fid}", f"/api/v1/forms/{fid}/pdf"):
                resp = await client.get(path)
                assert resp.json()["error"]["code"] == code, (path, resp.text)
        resp = await cust.get(f"/api/v1/forms/{fid}/pdf", params={"lang": "fr"})
        assert resp.json()["error"]["code"] == "bad_request"
        assert (await cust.get("/api/v1/forms/nosuchform0000")).status_code == 404
    # the history has it: a late reader replays the whole form
    late = await WsClient.connect(server.ws_url, token=token)
    await late.request("subscribe", conversation_id=cid, after_seq=0)
    kinds = [e["kind"] for e in late.events(cid) if e["kind"].startswith("form.")]
    assert kinds[0] == "form.opened" and kinds[-2:] == ["form.submitted", "form.confirmed"]
    await asyncio.gather(adviser.close(), customer.close(), late.close())


async def test_templates_versions_and_who_manages_them(server: LiveServer) -> None:
    adviser, _customer, cid, _token = await room(server)
    server.add_adviser("root@bank.example", PASSWORD, "Root", role="admin")
    async with (
        await session(server, "root@bank.example") as root,
        await session(server, "anna@bank.example") as anna,
    ):
        listed = (await anna.get("/api/v1/form-templates")).json()["templates"]
        assert [(t["id"], t["version"], t["fields"]) for t in listed] == [("every-kind", 1, 16)]
        whole = (await anna.get("/api/v1/form-templates/every-kind")).json()["template"]
        assert whole["schema"] == every_kind()["schema"] and whole["ui"] == every_kind()["ui"]
        # only admins add and remove; with the CSRF token
        r = await anna.post("/api/v1/form-templates", content=every_kind_json())
        assert r.json()["error"]["code"] == "forbidden"
        r = await root.post("/api/v1/form-templates", content=every_kind_json(),
                            headers={"X-CSRF-Token": "wrong"})  # fmt: skip
        assert r.json()["error"]["code"] == "csrf_failed"
        # the same content is no new version
        r = await root.post("/api/v1/form-templates", content=every_kind_json())
        assert (r.status_code, r.json()["created"], r.json()["template"]["version"]) == (
            201,
            False,
            1,
        )
        # a refused template names the problem and changes nothing
        bad = every_kind()
        bad["ui"]["fields"]["iban"]["kind"] = "phone"
        r = await root.post("/api/v1/form-templates", content=json.dumps(bad))
        assert r.status_code == 422 and r.json()["error"]["code"] == "template_invalid"
        assert '"format": "phone"' in r.json()["error"]["message"]

        # a form opened with version 1 keeps it when version 2 comes
        ack = await adviser.request("form.open", conversation_id=cid, template_id="every-kind")
        assert ack["type"] == "ack", ack
        opened = await adviser.wait_for(lambda f: f.get("kind") == "form.opened")
        fid = opened["body"]["form_id"]
        changed_file = every_kind()
        changed_file["title"]["de"] = "Alle Arten (neu)"
        r = await root.post("/api/v1/form-templates", content=json.dumps(changed_file))
        assert r.json()["template"]["version"] == 2 and r.json()["created"] is True
        record = (await anna.get(f"/api/v1/forms/{fid}")).json()
        assert (record["version"], record["title"]["de"], record["status"]) == (
            1,
            "Alle Arten",
            "open",
        )
        assert (await adviser.request("form.cancel", conversation_id=cid, form_id=fid))[
            "type"
        ] == "ack"
        await adviser.wait_for(lambda f: f.get("kind") == "form.cancelled")
        ack = await adviser.request("form.open", conversation_id=cid, template_id="every-kind")
        reopened = await adviser.wait_for(lambda f: f.get("kind") == "form.opened")
        assert reopened["body"]["version"] == 2
        # removed: no new forms from it; the existing one still reads
        r = await anna.delete("/api/v1/form-templates/every-kind")
        assert r.json()["error"]["code"] == "forbidden"
        assert (await root.delete("/api/v1/form-templates/every-kind")).status_code == 204
        assert (await anna.get("/api/v1/form-templates")).json()["templates"] == []
        assert (await root.delete("/api/v1/form-templates/every-kind")).status_code == 404
        await adviser.request("form.cancel", conversation_id=cid,
                              form_id=reopened["body"]["form_id"])  # fmt: skip
        reply = await adviser.request("form.open", conversation_id=cid, template_id="every-kind")
        assert reply["code"] == "not_found"
        assert (await anna.get(f"/api/v1/forms/{fid}")).status_code == 200
    # the CLI lists what is there
    assert server.cli("form", "list").strip() == ""
    await adviser.close()
