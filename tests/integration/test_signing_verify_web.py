"""/verify and POST /api/v1/verify through a real `visavis serve`: no login, the
deployment's seal certificate trusted, size- and rate-limited per IP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from conftest import LiveServer, make_server
from sample_files import pdf
from signing_samples import audit, mark

from visavis.signing.keys import load_or_create_seal_keys
from visavis.signing.seal import do_sign

ORIGINAL = pdf(pages=1)


@pytest.fixture
def sealed(live_server: LiveServer) -> bytes:
    # the key where the server finds it: its data directory
    keys = load_or_create_seal_keys(live_server.data_dir / "keys", "Musterbank eG")
    return do_sign(ORIGINAL, [mark()], audit(ORIGINAL), keys)


async def test_the_api_answers_the_verdict_as_json(http: httpx.AsyncClient, sealed: bytes) -> None:
    r = await http.post(
        "/api/v1/verify", content=sealed, headers={"content-type": "application/pdf"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["valid"] is True and body["reason"] == "ok"
    assert body["signatures"][0]["signer"] == "Musterbank eG (Siegel / seal)"
    assert body["signatures"][0]["timestamped"] is False
    assert body["audit"]["conversation_id"] == "c-4711"

    r = await http.post("/api/v1/verify", content=sealed + b"\n")
    assert r.json()["valid"] is False and r.json()["reason"] == "appended"
    r = await http.post("/api/v1/verify", content=ORIGINAL)
    assert r.json()["reason"] == "not_signed"
    r = await http.post("/api/v1/verify", content=b"")
    assert r.status_code == 400 and r.json()["error"]["code"] == "upload_empty"


async def test_the_page_is_a_form_that_shows_the_verdict(
    http: httpx.AsyncClient, sealed: bytes
) -> None:
    r = await http.get("/verify", headers={"accept-language": "de-DE"})
    assert r.status_code == 200
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert '<html lang="de">' in r.text and 'enctype="multipart/form-data"' in r.text
    assert '<label for="file">' in r.text
    assert (await http.get("/verify.css")).headers["content-type"].startswith("text/css")

    files = {"file": ("vertrag.pdf", sealed, "application/pdf")}
    r = await http.post("/verify?lang=de", files=files)
    assert r.status_code == 200
    assert 'data-reason="ok"' in r.text and 'role="status"' in r.text
    assert "Das Dokument ist echt und unverändert." in r.text
    assert "Erika Mustermann (Kundin oder Kunde)" in r.text
    assert "qualifiziert" not in r.text.lower()

    files = {"file": ("vertrag.pdf", sealed[:-10] + b"0000000000", "application/pdf")}
    r = await http.post("/verify?lang=en", files=files)
    assert '<html lang="en">' in r.text and 'role="alert"' in r.text
    assert "Warning: this document is not confirmed." in r.text
    assert "Erika" not in r.text  # facts of an invalid file are not shown as facts

    r = await http.post("/verify?lang=en", data={"other": "x"}, files={"nofile": ("a", b"x")})
    assert r.status_code == 400 and "Please choose a PDF file." in r.text


@pytest.fixture
async def strict_server(tmp_path: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    server = make_server(
        tmp_path,  # type: ignore[arg-type]
        VISAVIS_VERIFICATIONS_PER_MINUTE="2",
        VISAVIS_VERIFY_MAX_BYTES="20000",
    )
    server.start()
    yield server
    server.stop()


async def test_size_and_rate_limits(strict_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=strict_server.base_url, timeout=30) as http:
        r = await http.post("/api/v1/verify", content=b"%PDF-" + b"x" * 30_000)
        assert r.status_code == 413 and r.json()["error"]["code"] == "upload_too_large"
        r = await http.post("/api/v1/verify", content=ORIGINAL)
        assert r.status_code == 200
        r = await http.post("/verify", files={"file": ("a.pdf", ORIGINAL, "application/pdf")})
        assert r.status_code == 429 and "Too many" not in r.text  # German by default
        r = await http.post("/api/v1/verify", content=ORIGINAL)
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
