"""The form templates an admin keeps (CLI `visavis form …`, the console's admin view).

Templates are versioned and never changed in place: adding a file whose id exists
with other content makes the next version; the same content again is no new version.
Removing hides a template from new forms; its versions stay, because a running or
submitted form refers to the version it was opened with. Adding a removed template's
id again brings it back (as a new version if the content changed). Templates are not
conversation changes, so these are plain transactions.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import func, select, update

from visavis.conversations.summary import iso
from visavis.errors import VisavisError
from visavis.forms.templates import Template, canonical, check_template
from visavis.protocol import frames as f
from visavis.storage.engine import Database
from visavis.storage.models import FormTemplate as TemplateRow

log = logging.getLogger(__name__)


@lru_cache(maxsize=256)
def _parsed(body: str) -> Template:
    """Stored bodies were checked when added; a version never changes, so parsing
    (and the cross-checks) once per body is enough."""
    return check_template(json.loads(body))


def template_of(row: TemplateRow) -> Template:
    return _parsed(row.body)


def template_frame(row: TemplateRow) -> f.FormTemplate:
    t = template_of(row)
    return {"id": row.id, "version": row.version, "title": t.title, "schema": t.schema,
            "ui": t.ui, "created_at": iso(row.created_at)}  # fmt: skip


def info_of(row: TemplateRow) -> f.FormTemplateInfo:
    t = template_of(row)
    return {"id": row.id, "version": row.version, "title": t.title, "fields": len(t.fields),
            "created_at": iso(row.created_at)}  # fmt: skip


class TemplateCatalogue:
    def __init__(self, database: Database) -> None:
        self._database = database
        # a version never changes (removal only hides the template from new forms), so
        # each is read once: every field change needs its form's version
        self._versions: dict[tuple[str, int], TemplateRow] = {}

    async def do_add(self, template: Template, by: str | None) -> tuple[f.FormTemplateInfo, bool]:
        """Store a checked template: (its newest version, whether a version was made)."""
        body = canonical(template.file())
        digest = hashlib.sha256(body.encode()).hexdigest()
        async with self._database.writer() as db:
            latest = await db.scalar(
                select(TemplateRow)
                .where(TemplateRow.id == template.id)
                .order_by(TemplateRow.version.desc())
                .limit(1)
            )
            if latest is not None and latest.digest == digest:
                if latest.removed_at is not None:
                    await db.execute(
                        update(TemplateRow)
                        .where(TemplateRow.id == template.id)
                        .values(removed_at=None)
                    )
                    await db.commit()
                    latest.removed_at = None
                return info_of(latest), False
            now = datetime.now(UTC)
            if latest is not None:  # a new version brings a removed template back
                await db.execute(
                    update(TemplateRow).where(TemplateRow.id == template.id).values(removed_at=None)
                )
            row = TemplateRow(
                id=template.id,
                version=(latest.version + 1) if latest is not None else 1,
                title_de=template.title["de"],
                title_en=template.title["en"],
                body=body,
                digest=digest,
                created_at=now,
                created_by=by,
            )
            db.add(row)
            await db.commit()
        log.info("form template %s version %d added", row.id, row.version)
        return info_of(row), True

    async def list(self) -> list[f.FormTemplateInfo]:
        """The newest version of every template not removed, by id."""
        async with self._database.sessions() as db:
            newest = (
                select(TemplateRow.id, func.max(TemplateRow.version).label("version"))
                .where(TemplateRow.removed_at.is_(None))
                .group_by(TemplateRow.id)
                .subquery()
            )
            rows = await db.scalars(
                select(TemplateRow)
                .join(
                    newest,
                    (TemplateRow.id == newest.c.id) & (TemplateRow.version == newest.c.version),
                )
                .order_by(TemplateRow.id)
            )
            return [info_of(row) for row in rows]

    async def latest(self, template_id: str) -> TemplateRow:
        """The newest version, for a new form (`not_found` if removed or unknown)."""
        async with self._database.sessions() as db:
            row = await db.scalar(
                select(TemplateRow)
                .where(TemplateRow.id == template_id, TemplateRow.removed_at.is_(None))
                .order_by(TemplateRow.version.desc())
                .limit(1)
            )
        if row is None:
            raise VisavisError("not_found", f"no form template {template_id!r}")
        return row

    async def version(self, template_id: str, version: int) -> TemplateRow:
        """One version, removed or not (a form keeps its version)."""
        row = self._versions.get((template_id, version))
        if row is not None:
            return row
        async with self._database.sessions() as db:
            row = await db.get(TemplateRow, (template_id, version))
        if row is None:
            raise VisavisError("not_found", f"no form template {template_id!r} v{version}")
        self._versions[(template_id, version)] = row
        return row

    async def do_remove(self, template_id: str) -> None:
        async with self._database.writer() as db:
            done = await db.execute(
                update(TemplateRow)
                .where(TemplateRow.id == template_id, TemplateRow.removed_at.is_(None))
                .values(removed_at=datetime.now(UTC))
            )
            await db.commit()
        if not getattr(done, "rowcount", 0):
            raise VisavisError("not_found", f"no form template {template_id!r}")
        log.info("form template %s removed (its versions stay for existing forms)", template_id)
