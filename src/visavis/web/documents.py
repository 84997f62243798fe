"""HTTP routes of the room's documents: uploads into a conversation, access tokens,
page images, the original file, and the library. Reference: docs/protocol.md, "HTTP
API".

Uploads are raw bodies (no multipart parser to trust), read up to the size limit and
not a byte further. The customer authenticates with `Authorization: Bearer <customer
token>` — never a cookie, so no cross-site request can upload in their name — and an
adviser with the session cookie and the CSRF header. GETs that cannot send headers
(`<img>`, `<video>`, a download link) carry a 15-minute access token (`?a=`) that names
one document, its conversation and the participant (`collab/access.py`).
"""

from __future__ import annotations

import logging
from typing import cast
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from visavis.auth.service import AdviserView
from visavis.auth.tokens import CustomerTokens
from visavis.collab.access import DocumentAccess, Grant
from visavis.collab.documents import DocumentService, check_page
from visavis.collab.library import LibraryService
from visavis.conversations.summary import iso
from visavis.conversations.writes import Author
from visavis.documents.render import PageRenderer, RenderKind
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.storage.models import Document
from visavis.web.http import Api
from visavis.web.permissions import advisers_of, check_admin, check_adviser_of
from visavis.web.ranges import ranged_response

log = logging.getLogger(__name__)

DEFAULT_PAGE_WIDTH = 800
# what the original file may do when opened: nothing (no script, no plugin, no fetch)
FILE_CSP = "sandbox; default-src 'none'"


class Participant:
    """Who is asking over HTTP: the customer of `customer_of` or an adviser."""

    def __init__(self, customer_of: str | None, adviser: AdviserView | None) -> None:
        self.customer_of = customer_of
        self.adviser = adviser

    def author(self, conv: f.ConversationSummary) -> Author:
        if self.adviser is not None:
            return Author("adviser", self.adviser.id, self.adviser.name)
        return Author("customer", None, conv["customer_name"])


class DocumentRoutes:
    def __init__(
        self,
        api: Api,
        tokens: CustomerTokens,
        documents: DocumentService,
        library: LibraryService,
        access: DocumentAccess,
        renderer: PageRenderer,
    ) -> None:
        self.api = api
        self.tokens = tokens
        self.documents = documents
        self.library = library
        self.access = access
        self.renderer = renderer

    # ------------------------------------------------------------ helpers
    async def participant(self, request: Request) -> Participant:
        """A Bearer customer token, else the adviser's session (with CSRF: every route
        that calls this is a POST)."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return Participant(self.tokens.check(header[7:].strip()), None)
        return Participant(None, await self.api.adviser(request, csrf=True))

    async def check_takes_part(
        self, who: Participant, conversation_id: str, reading: bool = False
    ) -> f.ConversationSummary:
        """The conversation, if `who` is its customer or one of its advisers (when only
        `reading`, also a supervisor or admin: they read every conversation)."""
        if who.customer_of is not None and who.customer_of != conversation_id:
            raise VisavisError("forbidden", "your token does not grant this conversation")
        conv = await self.api.conversations.get(conversation_id)
        if who.adviser is not None and not (reading and who.adviser.sees_all):
            check_adviser_of(who.adviser, conv)
        return conv

    async def read_body(self, request: Request) -> bytes:
        """The raw body, at most the upload limit (the rest is never read)."""
        limit = self.documents.limits.max_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise VisavisError(
                "upload_too_large", f"the upload has {declared} bytes; at most {limit} are accepted"
            )
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise VisavisError(
                    "upload_too_large", f"the upload is over {limit} bytes; at most {limit}"
                )
        return bytes(body)

    async def granted(self, request: Request) -> tuple[Grant, Document]:
        doc_id = request.path_params["document_id"]
        token = request.query_params.get("a")
        if not token:
            raise VisavisError("unauthorized", "missing access token (?a=)")
        grant = self.access.check(token, doc_id)
        doc = await self.documents.get(doc_id)
        if doc.conversation_id != grant.conversation_id:
            raise VisavisError("forbidden", "this access token is for another conversation")
        return grant, doc

    # ------------------------------------------------------------ conversation documents
    async def upload(self, request: Request) -> Response:
        cid = request.path_params["conversation_id"]
        who = await self.participant(request)
        source = request.query_params.get("source", "upload")
        if source not in ("upload", "snapshot"):
            raise VisavisError("bad_request", "source: expected 'upload' or 'snapshot'")
        if source == "snapshot" and who.customer_of is None:
            raise VisavisError("forbidden", "only the customer sends a snapshot")
        conv = await self.check_takes_part(who, cid)
        data = await self.read_body(request)
        info = await self.documents.do_upload(
            cid, who.author(conv), data, request.query_params.get("name"),
            cast(f.DocumentSource, source),
        )  # fmt: skip
        return JSONResponse({"document": info}, status_code=201)

    async def grant_access(self, request: Request) -> Response:
        who = await self.participant(request)
        doc = await self.documents.get(request.path_params["document_id"])
        conv = await self.check_takes_part(who, doc.conversation_id, reading=True)
        grant = Grant(
            doc.id,
            doc.conversation_id,
            "customer" if who.customer_of is not None else "adviser",
            who.adviser.id if who.adviser is not None else None,
        )
        token, expires = self.access.issue(grant)
        if who.adviser is not None and who.adviser.id not in advisers_of(conv):
            # a supervisor or admin opening a colleague's document (page images too)
            await self.api.audit.do_record(
                actor=f"adviser:{who.adviser.id}",
                action="document.access",
                subject=f"document:{doc.id}",
                detail={"conversation_id": doc.conversation_id},
            )
        body: f.DocumentAccess = {"token": token, "expires_at": iso(expires)}
        return JSONResponse(body)

    async def page(self, request: Request) -> Response:
        _, doc = await self.granted(request)
        raw_page = request.path_params["page"]
        raw_width = request.query_params.get("w", str(DEFAULT_PAGE_WIDTH))
        if not raw_page.isdigit() or not raw_width.isdigit() or len(raw_width) > 5:
            raise VisavisError("bad_request", "page and w must be whole numbers")
        page = int(raw_page)
        if doc.kind not in ("pdf", "image"):
            raise VisavisError("not_found", f"a {doc.kind} has no page images")
        try:
            check_page(doc, page)
        except VisavisError as err:
            raise VisavisError("not_found", err.message) from None
        kind: RenderKind = "pdf" if doc.kind == "pdf" else "image"
        jpeg = await self.renderer.page_jpeg(doc.digest, kind, page, int(raw_width))
        return Response(
            jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
        )

    async def file(self, request: Request) -> Response:
        grant, doc = await self.granted(request)
        # a video is watched through this URL (inline), so it is served even when not
        # downloadable; a PDF or image is shown as page images instead
        if grant.role == "customer" and not doc.downloadable and doc.kind != "video":
            raise VisavisError("forbidden", "this document may be viewed but not downloaded")
        try:
            data = await self.documents.store.get(doc.digest)
        except VisavisError:
            raise VisavisError("file_missing", f"the file of document {doc.id} is gone") from None
        if request.headers.get("range", "bytes=0-").replace(" ", "").startswith("bytes=0-"):
            # a download, or a video's first request (seeking asks for later ranges)
            await self.api.audit.do_record(
                actor=f"{grant.role}:{grant.adviser_id or grant.conversation_id}",
                action="document.download",
                subject=f"document:{doc.id}",
                detail={"conversation_id": doc.conversation_id, "bytes": len(data)},
            )
        disposition = "inline" if doc.kind == "video" else "attachment"
        return ranged_response(
            request,
            data,
            doc.mime,
            {
                "Content-Disposition": f"{disposition}; filename*=utf-8''{quote(doc.name)}",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": FILE_CSP,
                "Cache-Control": "private, max-age=900",
            },
        )

    # ------------------------------------------------------------ library
    async def library_list(self, request: Request) -> Response:
        await self.api.adviser(request)
        return JSONResponse({"documents": await self.library.list()})

    async def library_add(self, request: Request) -> Response:
        me = check_admin(await self.api.adviser(request, csrf=True))
        flag = request.query_params.get("downloadable", "false")
        if flag not in ("true", "false"):
            raise VisavisError("bad_request", "downloadable: expected true or false")
        data = await self.read_body(request)
        item = await self.library.do_add(
            data, request.query_params.get("name"), flag == "true", me.id
        )
        return JSONResponse({"document": item}, status_code=201)

    async def library_remove(self, request: Request) -> Response:
        check_admin(await self.api.adviser(request, csrf=True))
        await self.library.do_remove(request.path_params["library_id"])
        return Response(status_code=204)
