"""The HTTP API described as OpenAPI 3.1 (`GET /api/v1/openapi.json`), built from the
app's route table: every route and method, its path parameters, the JSON body models
(pydantic) of the routes that read one, and the error envelope. docs/protocol.md
("HTTP API") says what each route does; this document is for tools (clients,
schemathesis)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from visavis.errors import HTTP_STATUS
from visavis.web.appointments import BookBody, RebookBody, SlotBody
from visavis.web.http import CreateConversation, Login, ProfileBody
from visavis.web.joins import CreateCode, CreateInvitation, RedeemCode, RedeemInvitation

# The routes that read a JSON body (web/http.py `read_json`), with its model.
JSON_BODIES: dict[tuple[str, str], type[BaseModel]] = {
    ("POST", "/api/v1/conversations"): CreateConversation,
    ("POST", "/api/v1/session"): Login,
    ("PUT", "/api/v1/me/profile"): ProfileBody,
    ("POST", "/api/v1/invitations"): CreateInvitation,
    ("POST", "/api/v1/invitations/redeem"): RedeemInvitation,
    ("POST", "/api/v1/codes"): CreateCode,
    ("POST", "/api/v1/codes/redeem"): RedeemCode,
    ("POST", "/api/v1/slots"): SlotBody,
    ("POST", "/api/v1/appointments"): BookBody,
    ("POST", "/api/v1/appointments/{appointment_id}/rebook"): RebookBody,
}
# Routes whose body is raw bytes (uploads), not JSON.
_FILES = ("application/pdf", "image/png", "image/jpeg", "video/mp4", "video/webm")
RAW_BODIES = {
    "PUT /api/v1/me/photo": ("image/jpeg", "image/png", "image/webp"),
    "POST /api/v1/conversations/{conversation_id}/documents": _FILES,
    "POST /api/v1/library": _FILES,
    "POST /api/v1/form-templates": ("application/json",),
}
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "enum": sorted(HTTP_STATUS)},
                "message": {"type": "string"},
            },
        }
    },
}


def describe_routes(routes: list[BaseRoute], version: str) -> dict[str, Any]:
    """The OpenAPI document of these routes (WebSocket and static mounts are left
    out: /ws is described by docs/protocol.md, static files are not an API)."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for route in routes:
        if isinstance(route, WebSocketRoute | Mount) or not isinstance(route, Route):
            continue
        path = _PARAM.sub(r"{\1}", route.path)
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            op = _operation(method, route.path, path, schemas)
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "visavis HTTP API",
            "version": version,
            "description": "What each route does: docs/protocol.md, section HTTP API.",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _operation(method: str, raw_path: str, path: str, schemas: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": method.lower() + re.sub(r"[^A-Za-z0-9]+", "_", path).rstrip("_"),
        "parameters": [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in _PARAM.findall(raw_path)
        ],
        "responses": {
            "default": {
                "description": "an error with a stable code (docs/protocol.md)",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
            "200": {"description": "success (JSON, a page, a file or an event stream)"},
        },
    }
    model = JSON_BODIES.get((method, raw_path))
    if model is not None:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        op["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    raw = RAW_BODIES.get(f"{method} {raw_path}")
    if raw is not None:
        op["requestBody"] = {
            "required": True,
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in raw},
        }
    return op


async def openapi_json(request: Request) -> Response:
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("visavis")
    except PackageNotFoundError:  # a source tree without an install
        ours = "0"
    return JSONResponse(describe_routes(request.app.routes, ours))
