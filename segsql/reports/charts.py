"""Charts for every command that draws one (insights, overlap, history, funnels, cohorts).

One charting library for the whole project: Vega-Altair builds a Vega-Lite spec and
vl-convert renders it without a browser or a network. An HTML chart inlines the Vega
JavaScript bundle and its data, so it opens offline; no CDN, no remote fonts. The
libraries are imported inside functions, so `segsql --help` never pays for them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segsql.errors import UsageError

if TYPE_CHECKING:
    import altair as alt

FORMATS = (".png", ".svg", ".html")
#: PNG pixels per Vega-Lite pixel: sharp on high-density screens and in README screenshots
PNG_SCALE = 2.0
Records = Sequence[Mapping[str, Any]]


def check_path(path: Path) -> Path:
    """Fail before any work when the chart file's format is unknown or its folder is missing."""
    if path.suffix.lower() not in FORMATS:
        raise UsageError(f"cannot write a chart to {str(path)!r}: unknown file type", hint="name it .png, .svg or .html")
    if not path.parent.exists():
        raise UsageError(f"cannot write a chart to {str(path)!r}: folder {str(path.parent)!r} does not exist", hint="create it first or pick another path")
    return path


def save(chart: alt.TopLevelMixin, path: Path) -> Path:
    """Write `chart` as PNG, SVG or HTML (by the file's suffix) and return the path."""
    check_path(path)
    suffix = path.suffix.lower()
    if suffix == ".png":
        path.write_bytes(png_bytes(chart))
    elif suffix == ".svg":
        path.write_text(svg_text(chart), encoding="utf-8")
    else:
        path.write_text(html_text(chart), encoding="utf-8")
    return path


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The Vega-Lite spec with its data inline and without the `$schema` URL (never fetched,
    but nothing in an offline file should even look like a remote address)."""
    spec: dict[str, Any] = chart.to_dict()
    spec.pop("$schema", None)
    return spec


def png_bytes(chart: alt.TopLevelMixin) -> bytes:
    import vl_convert as vlc

    data: bytes = vlc.vegalite_to_png(_spec(chart), scale=PNG_SCALE)
    return data


def svg_text(chart: alt.TopLevelMixin) -> str:
    import vl_convert as vlc

    text: str = vlc.vegalite_to_svg(_spec(chart))
    return text


def html_text(chart: alt.TopLevelMixin, title: str = "segsql chart") -> str:
    """A standalone page: the Vega bundle inline, the spec in a JSON island (every `<` escaped,
    so no label can end a script), no action links (the editor link points off the machine)."""
    import html

    spec = json.dumps(_spec(chart)).replace("<", "\\u003c")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title></head>\n"
        "<body><div id=\"chart\"></div>\n"
        f"<script type=\"application/json\" id=\"spec\">{spec}</script>\n"
        f"<script type=\"module\">{embed_script()}</script>\n"
        "</body></html>\n"
    )


@functools.cache
def embed_script() -> str:
    """Vega, Vega-Lite and Vega-Embed bundled with a snippet that draws the page's `#spec` island
    into `#chart` (the same for every chart, so built once per process)."""
    import vl_convert as vlc

    snippet = (
        "vegaEmbed('#chart', JSON.parse(document.getElementById('spec').textContent),"
        " {renderer: 'svg', actions: false}).catch(console.error);"
    )
    script: str = vlc.javascript_bundle(snippet)
    if "</script" in script.lower():
        raise RuntimeError("the Vega bundle holds '</script': it cannot be inlined in a page")
    return script


# -- the chart shapes segsql draws ----------------------------------------------------------
def heatmap(records: Records, x: str, y: str, value: str, title: str, label: str | None = None) -> alt.Chart:
    """A matrix of `value` by `x` and `y` (overlap, cohort retention), each cell labelled
    with `label` (default: the value)."""
    import altair as alt

    data = _data([dict(r) for r in records])
    order_x = list(dict.fromkeys(str(r[x]) for r in records))
    order_y = list(dict.fromkeys(str(r[y]) for r in records))
    base = alt.Chart(data, title=title).encode(
        x=alt.X(f"{x}:O", sort=order_x, title=None, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y(f"{y}:O", sort=order_y, title=None),
    )
    cells = base.mark_rect().encode(color=alt.Color(f"{value}:Q", scale=alt.Scale(scheme="blues"), title=value))
    text = base.mark_text(baseline="middle").encode(
        text=alt.Text(f"{label or value}:N"),
        color=alt.condition(alt.datum[value] > _midpoint(records, value), alt.value("white"), alt.value("black")),
    )
    chart: alt.Chart = (cells + text).properties(width=max(160, 90 * len(order_x)), height=max(120, 40 * len(order_y)))
    return chart


def diverging_heatmap(records: Records, x: str, y: str, value: str, title: str, label: str) -> alt.LayerChart:
    """A matrix of a signed `value` (scaled cluster centroids): blue above 0, red below, white
    at 0, so a cell's colour says how far above or below the average it is; cells labelled
    with `label`."""
    import altair as alt

    data = _data([dict(r) for r in records])
    order_x = list(dict.fromkeys(str(r[x]) for r in records))
    order_y = list(dict.fromkeys(str(r[y]) for r in records))
    base = alt.Chart(data, title=title).encode(
        x=alt.X(f"{x}:N", sort=order_x, title=None, axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y(f"{y}:N", sort=order_y, title=None),
    )
    reach = max((abs(float(r[value])) for r in records if r[value] is not None), default=0.0) or 1.0
    scale = alt.Scale(scheme="redblue", domain=[-reach, reach])  # symmetric: equal distances, equal shades
    cells = base.mark_rect().encode(color=alt.Color(f"{value}:Q", scale=scale, title=value))
    strong = reach / 2
    text = base.mark_text(baseline="middle").encode(
        text=alt.Text(f"{label}:N"),
        color=alt.condition(alt.expr.abs(alt.datum[value]) > strong, alt.value("white"), alt.value("black")),
    )
    chart: alt.LayerChart = (cells + text).properties(width=max(160, 100 * len(order_x)), height=max(120, 40 * len(order_y)))
    return chart


def _data(values: list[dict[str, Any]]) -> alt.InlineData:
    import altair as alt

    return alt.InlineData(values=values)


def _midpoint(records: Records, value: str) -> float:
    values = [float(r[value]) for r in records if r[value] is not None]
    return (max(values) + min(values)) / 2 if values else 0.0


def lines(records: Records, x: str, series: Sequence[str], title: str, x_type: str = "T") -> alt.Chart:
    """One line per column of `series` over `x` (history: size, entered, exited per run)."""
    import altair as alt

    long = [{x: r[x], "measure": s, "value": r[s]} for r in records for s in series]
    chart: alt.Chart = (
        alt.Chart(_data(long), title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{x}:{x_type}", title=x),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("measure:N", sort=list(series), title=None),
            tooltip=[alt.Tooltip(f"{x}:{x_type}"), alt.Tooltip("measure:N"), alt.Tooltip("value:Q")],
        )
        .properties(width=480, height=240)
    )
    return chart


def bars(records: Records, x: str, y: str, title: str, color: str | None = None) -> alt.Chart:
    """Bars of `y` per category `x` (a funnel's steps, a KPI across segments)."""
    import altair as alt

    encoding: dict[str, Any] = {"x": alt.X(f"{x}:N", sort=None, title=None), "y": alt.Y(f"{y}:Q", title=y)}
    if color:
        encoding["color"] = alt.Color(f"{color}:N", title=None)
    chart: alt.Chart = alt.Chart(_data([dict(r) for r in records]), title=title).mark_bar().encode(**encoding).properties(width=max(200, 60 * len(records)), height=240)
    return chart


def _distinct(records: Records, color: str) -> alt.Scale:
    """A colour scheme with a colour of its own for each value (10, or up to 20 values)."""
    import altair as alt

    values = {str(r.get(color)) for r in records}
    return alt.Scale(scheme="tableau10" if len(values) <= 10 else "tableau20")


def funnel(records: Records, title: str, color: str | None = None) -> alt.Chart:
    """A horizontal funnel: one bar per step (top to bottom), labelled with its users, the
    conversion from the first step and the median time from the previous one; with `color`,
    one bar per value of that column within each step, one colour per value.

    Records hold `step`, `step_name`, `users` and a ready `label`."""
    import altair as alt

    order = list(dict.fromkeys(f"{r['step']}. {r['step_name']}" for r in records))
    rows = [{**dict(r), "step_label": f"{r['step']}. {r['step_name']}"} for r in records]
    data = _data(rows)
    y = alt.Y("step_label:N", sort=order, title=None, axis=alt.Axis(labelLimit=240))
    encoding: dict[str, Any] = {"y": y, "x": alt.X("users:Q", title="users")}
    if color:
        encoding["color"] = alt.Color(f"{color}:N", title=color, scale=_distinct(records, color))
        encoding["yOffset"] = alt.YOffset(f"{color}:N")
    base = alt.Chart(data, title=title).encode(**encoding)
    bars = base.mark_bar() if color else base.mark_bar(color="steelblue")
    text = base.mark_text(align="left", dx=4).encode(text=alt.Text("label:N"), color=alt.value("black"))  # readable on any bar colour
    per_step = len({str(r.get(color)) for r in records}) if color else 1
    chart: alt.Chart = (bars + text).properties(width=520, height=max(120, 28 * per_step * len(order)))
    return chart


def conversion_lines(records: Records, x: str, y: str, title: str, color: str | None = None) -> alt.Chart:
    """`y` (a share, shown as a percentage) over periods `x`, one line per value of `color`."""
    import altair as alt

    encoding: dict[str, Any] = {
        "x": alt.X(f"{x}:T", title=x),
        "y": alt.Y(f"{y}:Q", title=y, axis=alt.Axis(format="%")),
        "tooltip": [alt.Tooltip(f"{x}:T"), alt.Tooltip(f"{y}:Q", format=".1%")],
    }
    if color:
        encoding["color"] = alt.Color(f"{color}:N", title=color, scale=_distinct(records, color))
    chart: alt.Chart = alt.Chart(_data([dict(r) for r in records]), title=title).mark_line(point=True).encode(**encoding).properties(width=480, height=240)
    return chart
