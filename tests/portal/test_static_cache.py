"""Static files: fingerprinted and kept a year in production, fresh in the demo; the web fonts
cut to the characters the window writes (scripts/subset-fonts.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from fontTools.ttLib import TTFont

from tests.lighthouse.production_static import production_static

pytestmark = pytest.mark.django_db

YEAR = 365 * 24 * 3600
PORTAL = Path(__file__).resolve().parents[2] / "src/panjereh/portal"
FONTS = PORTAL / "static/portal/fonts"


@pytest.fixture
def fresh_cache():
    cache.clear()  # the public page cache must not answer with a page of another test
    yield
    cache.clear()


def _max_age(header: str) -> int:
    match = re.search(r"max-age=(\d+)", header)
    assert match, header
    return int(match.group(1))


def test_production_pages_link_fingerprinted_files_kept_a_year(tmp_path, fresh_cache):
    with production_static(tmp_path):
        client = Client()  # its WhiteNoise middleware is built with the settings above
        page = client.get("/").content.decode()
        linked = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
        assert {Path(u).suffix for u in linked} >= {".css", ".js", ".woff2"}, linked
        for url in linked:
            assert re.search(r"\.[0-9a-f]{12}\.\w+$", url), f"{url} has no content hash"
            response = client.get(url)
            assert response.status_code == 200, url
            control = response.headers["Cache-Control"]
            assert _max_age(control) >= YEAR and "immutable" in control, (url, control)
            b"".join(response.streaming_content)
            response.close()


def test_production_serves_compressed_copies(tmp_path, fresh_cache):
    with production_static(tmp_path):
        client = Client()
        page = client.get("/").content.decode()
        (css,) = re.findall(r'href="(/static/portal/css/portal\.[0-9a-f]{12}\.css)"', page)
        plain = client.get(css)
        size = int(plain.headers["Content-Length"])
        plain.close()
        brotli = client.get(css, headers={"Accept-Encoding": "br, gzip"})
        assert brotli.headers["Content-Encoding"] == "br"
        assert int(brotli.headers["Content-Length"]) < size / 3
        assert "Accept-Encoding" in brotli.headers["Vary"]
        brotli.close()


def test_an_unhashed_name_is_kept_only_a_minute(tmp_path, fresh_cache):
    """A file asked for by its plain name (an old page, a bookmark) may change: not immutable."""
    with production_static(tmp_path):
        response = Client().get("/static/portal/css/portal.css")
        control = response.headers["Cache-Control"]
        response.close()
    assert _max_age(control) == 60 and "immutable" not in control


def test_demo_and_test_modes_serve_the_sources_fresh(fresh_cache):
    """No collectstatic in the demo: WhiteNoise finds the files in the apps, by their plain
    names, so that an edited stylesheet shows on the next visit after a minute at most."""
    client = Client()
    page = client.get("/").content.decode()
    assert '/static/portal/css/portal.css"' in page
    response = client.get("/static/portal/css/portal.css")
    assert response.status_code == 200
    control = response.headers["Cache-Control"]
    response.close()
    assert _max_age(control) <= 60 and "immutable" not in control


def _ranges(text: str) -> set[int]:
    points: set[int] = set()
    for part in re.findall(r"U\+([0-9A-Fa-f]+)(?:-([0-9A-Fa-f]+))?", text):
        start = int(part[0], 16)
        points.update(range(start, int(part[1] or part[0], 16) + 1))
    return points


def _css_faces() -> list[str]:
    css = (PORTAL / "static/portal/css/portal.css").read_text(encoding="utf-8")
    return re.findall(r"@font-face\s*\{(.*?)\}", css, re.S)


@pytest.mark.parametrize("weight", ["Regular", "Bold"])
def test_web_fonts_are_the_subsets_and_declare_their_ranges(weight):
    (face,) = [f for f in _css_faces() if f"Vazirmatn-{weight}-subset.woff2" in f]
    assert "font-display: swap" in face
    declared = _ranges(face.split("unicode-range:", 1)[1])
    path = FONTS / f"Vazirmatn-{weight}-subset.woff2"
    assert path.stat().st_size < 25_000
    covered = set(TTFont(path).getBestCmap())
    # The face claims exactly what the file draws: a character it lacks goes to the next font
    # of the stack, and nothing is carried that the face never uses.
    assert declared == covered, (sorted(declared - covered), sorted(covered - declared))


def test_web_fonts_draw_every_persian_text_of_the_interface():
    from panjereh.common.persian import to_persian_digits

    po = (PORTAL.parent / "locale/fa/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    texts = "".join(re.findall(r'^msgstr "(.*)"$', po, re.M)) + to_persian_digits("0123456789")
    full = set(TTFont(FONTS / "Vazirmatn-Regular.woff2").getBestCmap())
    for weight in ("Regular", "Bold"):
        covered = set(TTFont(FONTS / f"Vazirmatn-{weight}-subset.woff2").getBestCmap())
        # Every character of the interface that Vazirmatn draws, its web subset draws too.
        lost = {ch for ch in set(texts) if ord(ch) in full and ord(ch) not in covered}
        assert not lost, (
            f"{weight}: {sorted(lost)} not in the web subset: add them to UNICODE_RANGES in "
            "scripts/subset-fonts.py, run it and copy the ranges into portal.css"
        )
    assert {ch for ch in "پچژکگیآ۰۹،؛؟\u200c"} <= {chr(c) for c in covered}


def test_pages_travel_compressed_to_browsers_that_accept_it(fresh_cache):
    import gzip

    client = Client()
    plain = client.get("/")
    assert "Content-Encoding" not in plain.headers
    for _ in range(2):  # rendered, then from the public page cache
        packed = client.get("/", headers={"Accept-Encoding": "gzip, deflate, br"})
        assert packed.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert gzip.decompress(packed.content) == plain.content
        assert len(packed.content) < len(plain.content) / 2
