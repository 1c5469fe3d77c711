"""segsql/reports/charts.py: valid PNG, SVG and offline HTML files, for every chart shape."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from segsql.errors import UsageError
from segsql.reports import charts
from tests.browser import browser_page

OVERLAP = [
    {"a": a, "b": b, "jaccard": j, "label": f"{j:.2f}"}
    for a, b, j in [("vips", "vips", 1.0), ("vips", "lapsed", 0.25), ("lapsed", "vips", 0.25), ("lapsed", "lapsed", 1.0)]
]
HISTORY = [
    {"as_of": "2026-11-20T12:00:00Z", "size": 10, "entered": 10, "exited": 0},
    {"as_of": "2026-11-21T12:00:00Z", "size": 12, "entered": 4, "exited": 2},
]


def _charts() -> list[object]:
    return [
        charts.heatmap(OVERLAP, "a", "b", "jaccard", "overlap", label="label"),
        charts.lines(HISTORY, "as_of", ["size", "entered", "exited"], "history"),
        charts.bars([{"step": "view", "users": 10}, {"step": "buy", "users": 3}], "step", "users", "funnel"),
    ]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("index", range(3))
def test_png_has_the_signature_and_a_real_size(tmp_path: Path, index: int) -> None:
    path = charts.save(_charts()[index], tmp_path / "c.png")  # type: ignore[arg-type]
    width, height = _png_size(path.read_bytes())
    assert width >= 200 and height >= 150
    assert path.stat().st_size > 2000  # drawn marks, not an empty canvas


def test_svg_parses_and_holds_the_labels(tmp_path: Path) -> None:
    path = charts.save(_charts()[0], tmp_path / "c.svg")  # type: ignore[arg-type]
    root = ET.fromstring(path.read_text(encoding="utf-8"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"vips", "lapsed", "0.25", "1.00"} <= texts


class _Fetches(HTMLParser):
    """Every address an HTML document makes a browser load by itself: src/href/srcset/poster
    attributes, and url(...) / @import in inline styles."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "srcset", "poster", "data") and value:
                self.urls.append(value)
            if name == "style" and value:
                self.urls += re.findall(r"url\(([^)]*)\)", value)

    def handle_data(self, data: str) -> None:
        if self._style:
            self.urls += re.findall(r"url\(([^)]*)\)|@import\s+['\"]?([^'\";]+)", data)


def test_html_loads_nothing_from_elsewhere(tmp_path: Path) -> None:
    path = charts.save(_charts()[1], tmp_path / "c.html")  # type: ignore[arg-type]
    text = path.read_text(encoding="utf-8")
    parser = _Fetches()
    parser.feed(text)
    assert not [u for u in parser.urls if re.match(r"\s*(https?:)?//", str(u))]
    assert "cdn" not in text.lower().split("<script>")[0]
    assert '"$schema"' not in text


def test_html_chart_renders_offline_in_chromium(tmp_path: Path) -> None:
    """Drawn by the inlined bundle from file:// with nothing else loaded; a label that looks
    like the end of a script stays a label."""
    records = [{"a": "</script><b>x", "b": "vips", "jaccard": 0.25, "label": "0.25"}, {"a": "vips", "b": "vips", "jaccard": 1.0, "label": "1.00"}]
    path = charts.save(charts.heatmap(records, "a", "b", "jaccard", "overlap", label="label"), tmp_path / "c.html")
    requests: list[str] = []
    with browser_page(requests) as page:
        page.goto(path.as_uri())
        page.wait_for_selector("#chart svg.marks text", timeout=15000)
        labels = page.eval_on_selector_all("#chart svg text", "els => els.map(e => e.textContent)")
    assert {"vips", "0.25", "</script><b>x"} <= set(labels)
    assert all(u.startswith(("file:", "data:", "blob:", "about:")) for u in requests), requests


def test_unknown_suffix_or_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"name it \.png, \.svg or \.html"):
        charts.check_path(tmp_path / "c.jpg")
    with pytest.raises(UsageError, match="does not exist"):
        charts.check_path(tmp_path / "missing" / "c.png")
