"""The OpenAPI document describes every HTTP route of the app, with the JSON body
models of the routes that read one."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Mount, Route, WebSocketRoute

from visavis.app import create_app
from visavis.config import Settings
from visavis.web.openapi import JSON_BODIES, RAW_BODIES, describe_routes


def test_every_route_and_method_is_described(tmp_path: Path) -> None:
    app = create_app(Settings.from_env({"VISAVIS_DATA_DIR": str(tmp_path)}))
    doc = describe_routes(app.routes, "test")
    assert doc["openapi"].startswith("3.1")
    described = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    routes = [r for r in app.routes if isinstance(r, Route)]
    expected = {(m, r.path) for r in routes for m in (r.methods or {"GET"}) - {"HEAD"}}
    assert expected == described
    assert ("GET", "/api/v1/openapi.json") in described
    # only /ws and the static mount are left out, and on purpose
    others = [r for r in app.routes if not isinstance(r, Route)]
    assert all(isinstance(r, WebSocketRoute | Mount) for r in others)
    # every body table entry names a real route, and is in the document
    for method, path in JSON_BODIES:
        body = doc["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]
        name = body["schema"]["$ref"].rsplit("/", 1)[1]
        assert name in doc["components"]["schemas"]
    for key in RAW_BODIES:
        method, path = key.split(" ", 1)
        assert "requestBody" in doc["paths"][path][method.lower()]
    # path parameters are declared
    params = doc["paths"]["/api/v1/appointments/{appointment_id}/rebook"]["post"]["parameters"]
    assert [p["name"] for p in params] == ["appointment_id"]
    # operation ids are unique (tools key on them)
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
