"""The form service on a real database (SQLite and PostgreSQL): per-field optimistic
concurrency (of two edits based on the same revision exactly one wins, also when they
race), structural refusals that store nothing, semantic errors stored with the
change, submission only when valid, and the order of the steps."""

from __future__ import annotations

import asyncio
import json

import pytest
from forms_samples import every_kind_template
from services import conversation_service

from visavis.auth.service import AuthService
from visavis.conversations.service import ConversationService
from visavis.conversations.writes import Author
from visavis.errors import VisavisError
from visavis.forms.catalogue import TemplateCatalogue
from visavis.forms.service import FormService
from visavis.routing.decide import ChatLimits
from visavis.storage.engine import Database

CUSTOMER = Author("customer", None, "Erika")


async def setup(db: Database) -> tuple[ConversationService, FormService, Author, str, str]:
    c = conversation_service(db)
    anna = await AuthService(db, 3, 3600, 5).do_add_adviser(
        "anna@bank.example", "long-enough-pw", "Anna"
    )
    conv, _ = await c.do_create("Erika", None, "de", None)
    await c.do_accept(conv["id"], anna.id, anna.name, ChatLimits(3))
    catalogue = TemplateCatalogue(db)
    await catalogue.do_add(every_kind_template(), None)
    forms = FormService(db, c, catalogue)
    me = Author("adviser", anna.id, anna.name)
    opened = await forms.do_open(conv["id"], me, "every-kind", {"name": "Erika", "note": ""})
    return c, forms, me, conv["id"], opened["body"]["form_id"]


async def refused(code: str, step: object) -> VisavisError:
    with pytest.raises(VisavisError) as caught:
        await step  # type: ignore[misc]
    assert caught.value.code == code, caught.value.message
    return caught.value


async def test_a_stale_change_is_refused_and_the_winner_stays(db: Database) -> None:
    _c, forms, me, cid, fid = await setup(db)
    first = await forms.do_change(cid, me, fid, "name", "Erika Muster", 0)
    assert first["body"]["rev"] == 1
    err = await refused(
        "form_field_conflict", forms.do_change(cid, CUSTOMER, fid, "name", "E. M.", 0)
    )
    assert err.details == {"field": "name", "rev": 1, "value": "Erika Muster"}
    # another field is not in conflict: revisions are per field
    await forms.do_change(cid, CUSTOMER, fid, "count", 3, 0)
    # based on the current revision, the customer's edit goes in
    again = await forms.do_change(cid, CUSTOMER, fid, "name", "E. Muster", 1)
    assert again["body"]["rev"] == 2
    record = await forms.get(fid)
    assert json.loads(record.values)["name"] == "E. Muster"


async def test_of_two_racing_edits_of_one_field_exactly_one_wins(db: Database) -> None:
    _c, forms, me, cid, fid = await setup(db)
    results = await asyncio.gather(
        *(forms.do_change(cid, who, fid, "code", text, 0)
          for who, text in ((me, "AAA"), (CUSTOMER, "BBB"), (me, "CCC"), (CUSTOMER, "DDD"))),
        return_exceptions=True,
    )  # fmt: skip
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, VisavisError)]
    assert len(won) == 1 and len(lost) == 3
    assert {e.code for e in lost} == {"form_field_conflict"}
    stored = json.loads((await forms.get(fid)).values)["code"]
    assert stored == won[0]["body"]["value"]


async def test_structural_refusals_store_nothing_and_semantic_errors_are_stored(
    db: Database,
) -> None:
    c, forms, me, cid, fid = await setup(db)
    last = (await c.get(cid))["last_seq"]
    for field, value in (("ghost", "x"), ("count", "3"), ("agree", 1), ("name", "x" * 600)):
        await refused("form_invalid_change", forms.do_change(cid, me, fid, field, value, 0))
    assert (await c.get(cid))["last_seq"] == last  # no event, no change
    assert json.loads((await forms.get(fid)).revs) == {}
    changed = await forms.do_change(cid, CUSTOMER, fid, "iban", "DE89370400440532013001", 0)
    assert changed["body"]["errors"]["iban"] == [{"code": "format", "detail": "iban"}]
    assert json.loads((await forms.get(fid)).values)["iban"] == "DE89370400440532013001"


async def test_submit_only_when_valid_then_confirm(db: Database) -> None:
    _c, forms, me, cid, fid = await setup(db)
    err = await refused("form_invalid", forms.do_submit(cid, me, fid))
    assert set(err.details["errors"]) == {"agree"}
    await forms.do_change(cid, CUSTOMER, fid, "agree", True, 0)
    await refused("invalid_state", forms.do_confirm(cid, CUSTOMER, fid))  # not submitted yet
    submitted = await forms.do_submit(cid, me, fid)
    assert submitted["body"]["values"] == {"name": "Erika", "agree": True}
    await refused("invalid_state", forms.do_change(cid, CUSTOMER, fid, "name", "X", 0))
    await refused("invalid_state", forms.do_submit(cid, me, fid))
    await forms.do_confirm(cid, CUSTOMER, fid)
    assert (await forms.get(fid)).status == "confirmed"


async def test_one_open_form_at_a_time_and_prefill_is_checked(db: Database) -> None:
    _c, forms, me, cid, fid = await setup(db)
    await refused("invalid_state", forms.do_open(cid, me, "every-kind", {}))
    await forms.do_cancel(cid, me, fid)
    await refused("form_invalid_change", forms.do_open(cid, me, "every-kind", {"ghost": 1}))
    await refused("not_found", forms.do_open(cid, me, "no-such-template", {}))
    opened = await forms.do_open(cid, me, "every-kind", {"count": 20})
    assert opened["body"]["values"] == {"count": 20}
    assert opened["body"]["errors"]["count"] == [{"code": "maximum", "detail": "10"}]
