"""The seal's timestamp client: one kept per URL (one round trip to the TSA a seal,
not two), and every way a TSA can fail ends in `timestamp_failed`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pyhanko.sign.timestamps import DummyTimeStamper
from sample_files import pdf
from signing_samples import audit, mark

from visavis.signing import timestamp_client
from visavis.signing.errors import SigningError
from visavis.signing.keys import SealKeys, load_or_create_seal_keys, seal_certificate_pem
from visavis.signing.seal import do_sign
from visavis.signing.tsa import load_or_create_tsa, make_handler
from visavis.signing.verify import check_signed_pdf

ORIGINAL = pdf(pages=1)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> SealKeys:
    return load_or_create_seal_keys(tmp_path_factory.mktemp("keys"), "Musterbank eG")


class CountingTsa:
    """The local TSA's request handler in a server thread, counting the queries."""

    def __init__(self, keys_dir: Path) -> None:
        stamper = load_or_create_tsa(keys_dir)
        self.cert_pem = (keys_dir / "tsa-cert.pem").read_bytes()
        self.queries = 0
        base = make_handler(stamper)
        outer = self

        class Handler(base):  # type: ignore[valid-type,misc]
            def do_POST(self) -> None:
                outer.queries += 1
                super().do_POST()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        host, port = self.server.server_address[:2]
        self.url = f"http://{host!s}:{port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def tsa(tmp_path: Path) -> Iterator[CountingTsa]:
    server = CountingTsa(tmp_path / "tsa")
    yield server
    server.close()


def test_a_seal_asks_the_tsa_once_after_the_first(keys: SealKeys, tsa: CountingTsa) -> None:
    first = do_sign(ORIGINAL, [mark()], audit(ORIGINAL), keys, timestamp_url=tsa.url)
    # the first seal: the size estimate's token and the real one
    assert tsa.queries == 2
    second = do_sign(ORIGINAL, [mark()], audit(ORIGINAL), keys, timestamp_url=tsa.url)
    assert tsa.queries == 3
    trust = [seal_certificate_pem(keys), tsa.cert_pem]
    for sealed in (first, second):
        report = check_signed_pdf(sealed, trust)
        assert (report.valid, report.reason) == (True, "ok")
        assert report.signatures[0].timestamped


def test_a_kept_timestamper_is_replaced_after_a_while(
    tsa: CountingTsa, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = timestamp_client.timestamper_for(tsa.url, 10)
    assert timestamp_client.timestamper_for(tsa.url, 10) is kept
    monkeypatch.setattr(timestamp_client, "KEEP_S", -1.0)
    assert timestamp_client.timestamper_for(tsa.url, 10) is not kept


class NotATsa(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/html":
            body = b"<html>hello</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
        elif self.path == "/garbage":
            body = b"\x30\x03\x02\x01"  # a reply's content type, not a reply
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
        else:
            body = b"no"
            self.send_response(403)
            self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def not_a_tsa() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotATsa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host!s}:{port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize("path", ["/html", "/garbage", "/forbidden"])
def test_an_answer_that_is_no_timestamp_stops_the_signing(
    keys: SealKeys, not_a_tsa: str, path: str
) -> None:
    with pytest.raises(SigningError) as err:
        do_sign(ORIGINAL, [mark()], audit(ORIGINAL), keys, timestamp_url=not_a_tsa + path)
    assert err.value.code == "timestamp_failed"


@pytest.mark.parametrize("url", ["ftp://tsa.example/", "http:///nohost", "tsa.example"])
def test_a_url_that_is_no_http_url_stops_the_signing(keys: SealKeys, url: str) -> None:
    with pytest.raises(SigningError) as err:
        do_sign(ORIGINAL, [mark()], audit(ORIGINAL), keys, timestamp_url=url)
    assert err.value.code == "timestamp_failed"


def test_credentials_in_the_url_go_as_basic_authentication() -> None:
    stamper = timestamp_client.HttpTimeStamper("https://ts%40x:p%3Aw@tsa.example:8443/q?a=1", 5)
    assert stamper._headers["Authorization"] == "Basic dHNAeDpwOnc="  # ts@x:p:w
    assert (stamper._host, stamper._port, stamper._path) == ("tsa.example", 8443, "/q?a=1")
    # and no message shows them
    assert timestamp_client.shown_url(stamper.url) == "https://tsa.example:8443/q?a=1"
    assert timestamp_client.shown_url("http://tsa.example/") == "http://tsa.example/"


def test_a_failed_timestamp_names_the_tsa_without_its_credentials(
    keys: SealKeys, not_a_tsa: str
) -> None:
    url = not_a_tsa.replace("http://", "http://user:s3cret@") + "/html"
    with pytest.raises(SigningError) as err:
        do_sign(ORIGINAL, [mark()], audit(ORIGINAL), keys, timestamp_url=url)
    assert err.value.code == "timestamp_failed"
    assert "s3cret" not in err.value.message and "127.0.0.1" in err.value.message


def test_the_local_tsa_is_pyhankos_dummy_behind_http(tmp_path: Path) -> None:
    assert isinstance(load_or_create_tsa(tmp_path), DummyTimeStamper)
