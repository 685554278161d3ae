"""The web console's HTTP side: pages, assets, caching and security headers, the QR code (docs/API.md, Web console)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import requests

from checks import assert_error

POLICY = "default-src 'self'"


def page(server, path: str) -> requests.Response:
    answer = requests.get(server.url(path), timeout=30)
    assert answer.status_code == 200, answer.text
    return answer


def asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/assets/[^"]+)"', html)


def test_pages_are_html_with_the_policy_and_no_inline_script(server):
    for path in ("/", "/admin", "/admin/"):
        answer = page(server, path)
        assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
        assert answer.headers["Content-Security-Policy"].startswith(POLICY)
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Frame-Options"] == "DENY"
        # Not no-referrer: Chromium would then send `Origin: null` on the page's own POSTs.
        assert answer.headers["Referrer-Policy"] == "same-origin"
        assert answer.headers["Cache-Control"] == "no-cache"
        assert re.fullmatch(r'"[0-9a-f]{24}"', answer.headers["ETag"])
        assert "{{ASSETS}}" not in answer.text
        assert not re.search(r"<script(?![^>]*\bsrc=)", answer.text), "inline script"
        assert "style=" not in answer.text and "<style" not in answer.text


def test_a_page_revalidates_with_304(server):
    etag = page(server, "/").headers["ETag"]
    answer = requests.get(server.url("/"), headers={"If-None-Match": etag}, timeout=30)
    assert answer.status_code == 304 and answer.content == b""
    assert answer.headers["ETag"] == etag
    assert "Content-Length" not in answer.headers or answer.headers["Content-Length"] != "0"
    stale = requests.get(server.url("/"), headers={"If-None-Match": '"stale"'}, timeout=30)
    assert stale.status_code == 200


def test_assets_are_immutable_with_their_types(server):
    urls = asset_urls(page(server, "/").text) + asset_urls(page(server, "/admin").text)
    types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
    assert {url[url.rfind("."):] for url in urls} == set(types)
    for url in urls:
        answer = requests.get(server.url(url), timeout=30)
        assert answer.status_code == 200, url
        assert answer.headers["Content-Type"] == types[url[url.rfind("."):]]
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert answer.headers["Content-Security-Policy"].startswith(POLICY)
        assert requests.get(server.url(url), headers={"If-None-Match": answer.headers["ETag"]},
                            timeout=30).status_code == 304


def test_relative_module_imports_resolve_to_served_files(server):
    participant = next(url for url in asset_urls(page(server, "/").text) if url.endswith("participant.js"))
    folder = participant.rsplit("/", 1)[0]
    source = requests.get(server.url(participant), timeout=30).text
    imports = re.findall(r"from '\./([^']+)'", source)
    assert "api.js" in imports
    for name in imports:
        assert requests.get(server.url(f"{folder}/{name}"), timeout=30).status_code == 200, name


def test_unknown_asset_or_old_build_is_404(server):
    participant = next(url for url in asset_urls(page(server, "/").text) if url.endswith("participant.js"))
    folder = participant.rsplit("/", 1)[0]
    for url in (f"{folder}/nope.js", "/assets/000000000000000000000000/participant.js", f"{folder}/index.html"):
        answer = requests.get(server.url(url), timeout=30)
        assert_error(answer, 404, "not_found")


def test_qr_code_is_an_svg_of_modules_only(server):
    text = "http://127.0.0.1:8000/?ref=REF-7KQ2M9XH"
    answer = requests.get(server.url("/api/qr.svg"), params={"data": text}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "image/svg+xml"
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")
    root = ElementTree.fromstring(answer.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    # Version 3 (29 modules) holds this text at level M, plus 2 x 4 quiet modules.
    assert root.get("viewBox") == "0 0 37 37"
    assert "REF-7KQ2M9XH" not in answer.text
    path = root.find("{http://www.w3.org/2000/svg}path").get("d")
    assert path.startswith("M4 4h1v1h-1z")  # the top-left finder pattern starts dark


def test_qr_code_refuses_empty_or_long_text(server):
    for data in ("", "x" * 513):
        answer = requests.get(server.url("/api/qr.svg"), params={"data": data}, timeout=30)
        assert_error(answer, 400, "validation_error")
