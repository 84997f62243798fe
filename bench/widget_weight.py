"""Bytes a visitor downloads: the widget button, and the customer app's first load.

Measured against a running server (what is actually served), each response
compressed on its own with gzip level 9 (what a compressing proxy or a
precompressed file would send):

1. Widget, before any click: `/widget.js` plus every request it makes before the
   click — found by scanning the script for `/api/v1/...` paths (today the
   availability JSON and the first event of the availability SSE stream) and for
   further script/style URLs. Target <= 3 KB (3 x 1024 bytes) in all.
2. Customer app, first load: `/chat` (the HTML the widget's iframe opens) plus every
   script and stylesheet it references (<script src>, <link rel=stylesheet|modulepreload>),
   following static `import`/`export ... from` in the JS (not dynamic `import()`) and
   `@import` in CSS. Target <= 30 KB (30 x 1024 bytes). API data is not counted.

The frontend must be built (`cd frontend && npm run build`), else the pages answer 503.

    python bench/widget_weight.py
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from _common import ROOT, Server, emit_result, exit_on_sigterm, table

BENCH = "widget_weight"
KB = 1024
APP_DIR = ROOT / "src" / "visavis" / "static" / "app"

# Static imports in (minified) ES modules: `import x from"./a.js"`, `import{a as b}from"./a.js"`,
# `import"./a.js"`, `export*from"./a.js"`. A dynamic `import("./a.js")` has "(" after
# `import` and does not match.
STATIC_IMPORT = re.compile(
    r"""(?:^|[;\s}{)])(?:import|export)\s*(?:[\w$*{}\s,]+?\s*from\s*)?["']([^"'\s]+)["']"""
)
CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)""")
API_PATH = re.compile(r"""/api/v1/[A-Za-z0-9_/-]+""")
ASSET_URL = re.compile(r"""["'`]([^"'`\s]*\.(?:js|mjs|css))["'`]""")


@dataclass
class Item:
    url: str
    kind: str
    raw: int
    gz: int
    wire: int  # body bytes actually received (compressed if the server compressed)
    encoding: str  # Content-Encoding the server used when the client offers gzip
    note: str = ""


class TagParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str]] = []  # (url, kind)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script" and a.get("src"):
            self.refs.append((a["src"], "js"))
        elif tag == "link" and a.get("href"):
            rel = a.get("rel", "").lower().split()
            if "stylesheet" in rel:
                self.refs.append((a["href"], "css"))
            elif "modulepreload" in rel:
                self.refs.append((a["href"], "js"))


def gz_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def fetch(http: httpx.Client, url: str, kind: str, note: str = "") -> tuple[Item, bytes]:
    r = http.get(url, headers={"Accept-Encoding": "gzip, br"})
    if r.status_code != 200:
        raise RuntimeError(f"GET {url}: {r.status_code} {r.text[:200]}")
    body = r.content  # decoded if the server compressed it
    enc = r.headers.get("content-encoding", "none")
    wire = r.num_bytes_downloaded
    return Item(url, kind, len(body), gz_size(body), wire, enc, note), body


def first_sse_event(http: httpx.Client, url: str, timeout_s: float = 5.0) -> tuple[Item, bytes]:
    """The stream's bytes up to and including its first `event:` block."""
    data = b""
    with http.stream("GET", url, timeout=timeout_s) as r:
        if r.status_code != 200:
            raise RuntimeError(f"GET {url}: {r.status_code}")
        for chunk in r.iter_bytes():
            data += chunk
            if (b"event:" in data and data.endswith(b"\n\n")) or len(data) > 64 * KB:
                break
        enc = r.headers.get("content-encoding", "none")
        wire = r.num_bytes_downloaded
    note = "first event of the stream"
    return Item(url, "sse", len(data), gz_size(data), wire, enc, note), data


def same_origin(base: str, url: str) -> bool:
    return urlsplit(url).netloc == urlsplit(base).netloc


def widget_load(http: httpx.Client, base: str) -> list[Item]:
    items: list[Item] = []
    item, body = fetch(http, f"{base}/widget.js", "js", "the embed <script>")
    items.append(item)
    text = body.decode("utf-8", errors="replace")
    for path in sorted(set(API_PATH.findall(text))):
        url = base + path
        if path.endswith("/stream"):
            items.append(first_sse_event(http, url)[0])
        else:
            items.append(fetch(http, url, "json", "fetched before the click")[0])
    for ref in sorted(set(ASSET_URL.findall(text))):
        url = urljoin(f"{base}/widget.js", ref)
        if same_origin(base, url):
            items.append(fetch(http, url, ref.rsplit(".", 1)[-1], "referenced by widget.js")[0])
    return items


def app_first_load(http: httpx.Client, base: str, page: str) -> list[Item]:
    items: list[Item] = []
    page_url = f"{base}{page}"
    item, body = fetch(http, page_url, "html", "the iframe's page")
    items.append(item)
    parser = TagParser()
    parser.feed(body.decode("utf-8", errors="replace"))
    seen: set[str] = set()
    todo = [(urljoin(page_url, u), k) for u, k in parser.refs]
    for _ in range(500):  # bounded walk over the static import graph
        if not todo:
            break
        url, kind = todo.pop(0)
        url = url.split("#", 1)[0]
        if url in seen or not same_origin(base, url):
            continue
        seen.add(url)
        item, data = fetch(http, url, kind)
        items.append(item)
        text = data.decode("utf-8", errors="replace")
        if kind == "js":
            todo += [(urljoin(url, s), "js") for s in STATIC_IMPORT.findall(text)]
        elif kind == "css":
            todo += [(urljoin(url, s), "css") for s in CSS_IMPORT.findall(text)]
    return items


def dynamic_chunks(items: list[Item]) -> list[str]:
    """Built JS/CSS files not in the first load (lazy chunks, console), for the record."""
    assets = APP_DIR / "assets"
    loaded = {urlsplit(i.url).path.rsplit("/", 1)[-1] for i in items}
    if not assets.is_dir():
        return []
    return sorted(p.name for p in assets.iterdir() if p.name not in loaded)


def rows(items: list[Item]) -> list[list[Any]]:
    return [[urlsplit(i.url).path, i.kind, i.raw, i.gz, i.wire, i.encoding, i.note] for i in items]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--widget-target-kb", type=float, default=3.0)
    p.add_argument("--app-target-kb", type=float, default=30.0)
    p.add_argument("--page", default="/chat?embed=1&lang=de", help="the customer app's URL")
    args = p.parse_args(argv)
    exit_on_sigterm()

    if not (APP_DIR / "widget.js").is_file() or not (APP_DIR / "chat.html").is_file():
        error = (
            f"the frontend is not built ({APP_DIR} has no widget.js/chat.html): "
            "run `cd frontend && npm ci && npm run build`"
        )
        print(f"error: {error}", file=sys.stderr)
        emit_result(BENCH, {"ok": False, "error": error})
        return 2

    error = ""
    widget: list[Item] = []
    app: list[Item] = []
    try:
        with (
            Server(env={"VISAVIS_LOG_LEVEL": "warning"}) as server,
            httpx.Client(timeout=10, trust_env=False) as http,
        ):
            widget = widget_load(http, server.base_url)
            app = app_first_load(http, server.base_url, args.page)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"

    headers = ["resource", "type", "raw B", "gzip-9 B", "wire B", "served enc.", "note"]
    w_gz = sum(i.gz for i in widget)
    w_js = sum(i.gz for i in widget if i.kind in ("js", "css"))
    a_gz = sum(i.gz for i in app)
    a_raw = sum(i.raw for i in app)
    w_ok = w_gz <= args.widget_target_kb * KB
    a_ok = a_gz <= args.app_target_kb * KB
    if widget:
        print("== widget: what the host page loads for the button (before a click) ==")
        print(table(headers, rows(widget)))
        print(
            f"total: {w_gz} B gzip ({w_js} B of it code), target <= {args.widget_target_kb:g} KB "
            f"({args.widget_target_kb * KB:.0f} B): {'PASS' if w_ok else 'FAIL'}\n"
        )
    if app:
        print("== customer app: first load of the chat page (code, no API data) ==")
        print(table(headers, rows(app)))
        print(
            f"total: {a_gz} B gzip ({a_raw} B raw), target <= {args.app_target_kb:g} KB "
            f"({args.app_target_kb * KB:.0f} B): {'PASS' if a_ok else 'FAIL'}"
        )
        lazy = dynamic_chunks(app)
        if lazy:
            print(f"built but not in the first load: {', '.join(lazy)}")
        print(
            f"as served: widget {sum(i.wire for i in widget)} B, "
            f"app {sum(i.wire for i in app)} B on the wire"
        )
        if all(i.encoding == "none" for i in widget + app):
            print("note: the server sent every response uncompressed (no Content-Encoding)")
    if error:
        print(f"error: {error}", file=sys.stderr)
    emit_result(
        BENCH,
        {
            "ok": not error,
            "error": error or None,
            "widget_gzip_bytes": w_gz,
            "widget_code_gzip_bytes": w_js,
            "widget_target_bytes": int(args.widget_target_kb * KB),
            "widget_pass": bool(widget) and w_ok,
            "app_gzip_bytes": a_gz,
            "app_raw_bytes": a_raw,
            "app_target_bytes": int(args.app_target_kb * KB),
            "app_pass": bool(app) and a_ok,
            "served_compressed": any(i.encoding != "none" for i in widget + app),
            "widget_wire_bytes": sum(i.wire for i in widget),
            "app_wire_bytes": sum(i.wire for i in app),
            "widget_items": [vars(i) for i in widget],
            "app_items": [vars(i) for i in app],
        },
    )
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
