"""Proactive invitations (R5.3): admin-defined rules the widget evaluates in the
visitor's browser (page, time on page, returning visitor, campaign). The server only
stores and serves them; the widget shows an invitation only while an adviser of the
rule's team is free (it asks /api/v1/availability?team=…), and nothing about the
visitor is sent or stored before they interact."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import TypedDict

from sqlalchemy import delete, select

from visavis.errors import VisavisError
from visavis.storage.engine import Database
from visavis.storage.models import ProactiveRule

PATTERN_RE = re.compile(r"^/[A-Za-z0-9/_.*?=&%~+-]{0,299}$")


class RuleInfo(TypedDict):
    """A rule as the widget and the CLI get it (`GET /api/v1/proactive-rules`)."""

    id: str
    url_pattern: str
    min_seconds_on_page: int
    returning_visitor: bool | None
    campaign: str | None
    team_id: str | None
    message_de: str
    message_en: str


def rule_dict(r: ProactiveRule) -> RuleInfo:
    return {
        "id": r.id,
        "url_pattern": r.url_pattern,
        "min_seconds_on_page": r.min_seconds_on_page,
        "returning_visitor": r.returning_visitor,
        "campaign": r.campaign,
        "team_id": r.team_id,
        "message_de": r.message_de,
        "message_en": r.message_en,
    }


class ProactiveService:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def rules(self) -> list[RuleInfo]:
        async with self._db.sessions() as db:
            rows = await db.scalars(select(ProactiveRule).order_by(ProactiveRule.created_at))
            return [rule_dict(r) for r in rows]

    async def do_add(
        self,
        url_pattern: str,
        min_seconds_on_page: int,
        returning_visitor: bool | None,
        campaign: str | None,
        team_id: str | None,
        message_de: str,
        message_en: str,
    ) -> RuleInfo:
        if not PATTERN_RE.match(url_pattern):
            raise VisavisError(
                "bad_request", "url_pattern: a path like /kredit/* (with * wildcards)"
            )
        if not 0 <= min_seconds_on_page <= 3600:
            raise VisavisError("bad_request", "min_seconds_on_page: 0 to 3600")
        if not message_de.strip() or not message_en.strip():
            raise VisavisError("bad_request", "messages: German and English text are needed")
        rule = ProactiveRule(
            id=secrets.token_hex(6),
            url_pattern=url_pattern,
            min_seconds_on_page=min_seconds_on_page,
            returning_visitor=returning_visitor,
            campaign=campaign or None,
            team_id=team_id,
            message_de=message_de.strip()[:300],
            message_en=message_en.strip()[:300],
            created_at=datetime.now(UTC),
        )
        async with self._db.writer() as db:
            db.add(rule)
            await db.commit()
        return rule_dict(rule)

    async def do_remove(self, rule_id: str) -> None:
        async with self._db.writer() as db:
            await db.execute(delete(ProactiveRule).where(ProactiveRule.id == rule_id))
            await db.commit()
