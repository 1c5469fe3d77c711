"""`segsql docs generate`: write the site under target/docs/.

Without a warehouse (no target, or it cannot be reached) the site still has every model's
definition, SQL and graph; with one it adds each model's size history (segsql_history) and
its latest insights, computed for all segments in one query.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from segsql import __version__
from segsql.engines import Adapter
from segsql.errors import SegsqlError
from segsql.reports.docs import graph, pages
from segsql.reports.docs.kinds import ModelDoc, collect
from segsql.reports.history import HistoryRow, iso_time, segment_history
from segsql.reports.insights import KPI_ROWS, SegmentKpis, segment_insights
from segsql.run.session import Session

INSIGHTS_DAYS = 30


@dataclass
class SiteData:
    """What the warehouse says about the models (empty without one)."""

    history: dict[str, list[HistoryRow]] = field(default_factory=dict)
    insights: dict[str, SegmentKpis] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class SiteResult:
    folder: Path
    pages: list[Path]
    notes: list[str]

    def as_dict(self) -> dict[str, object]:
        return {"folder": str(self.folder), "pages": [str(p) for p in self.pages], "notes": self.notes}


def warehouse_data(session: Session, adapter: Adapter, models: list[ModelDoc]) -> SiteData:
    data = SiteData()
    for m in models:
        if m.table:
            data.history[m.id] = segment_history(adapter, m.name)
    names = [m.name for m in models if m.kind == "segment"]
    try:
        result = segment_insights(session, adapter, names, "all", INSIGHTS_DAYS) if names else None
    except SegsqlError as err:  # one segment the warehouse rejects: the site is still worth having
        data.notes.append(f"insights skipped: {err}")
        result = None
    if result:
        data.insights = {f"segment:{k.segment}": k for k in result.segments}
    return data


def _kpi_rows(kpis: SegmentKpis) -> list[tuple[str, str]]:
    rows = []
    for label, key, form in KPI_ROWS:
        value = getattr(kpis, key)
        rows.append((label, "–" if value is None else form.format(value)))
    return rows


def _history_svg(name: str, rows: list[HistoryRow]) -> str | None:
    if not rows:
        return None
    from segsql.reports import charts

    records = [{"as_of": iso_time(r.as_of), "size": r.size, "entered": r.entered, "exited": r.exited} for r in rows]
    return charts.svg_text(charts.lines(records, "as_of", ["size", "entered", "exited"], f"history of {name}"))


def generate(session: Session, connect: Callable[[], Adapter] | None) -> SiteResult:
    """Write target/docs/ afresh; `connect` opens the warehouse for history and insights."""
    models = collect(session)
    data = SiteData()
    if connect is not None:
        try:
            with connect() as adapter:
                data = warehouse_data(session, adapter, models)
        except SegsqlError as err:
            data.notes.append(f"no warehouse data: {err}")
    folder = session.target_dir() / "docs"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    common = {"project": session.definitions.config.name or "segsql project", "as_of": session.project.as_of,
              "version": __version__, "pygments_css": pages.pygments_css()}
    nodes = [graph.Node(m.id, m.name, m.page, m.kind) for m in models]
    edges = [(dep, m.id) for m in models for dep in m.depends_on]
    written = []
    sizes = {m.id: f"{k.size:,}" for m in models if (k := data.insights.get(m.id))}
    index = folder / "index.html"
    index.write_text(pages.render("index", title="models", root="", models=models, sizes=sizes, **common), encoding="utf-8")
    lineage = folder / "lineage.html"
    lineage.write_text(pages.render("lineage", title="lineage", root="", graph_svg=graph.svg(nodes, edges), **common), encoding="utf-8")
    written += [index, lineage]
    for m in models:
        near = graph.neighbourhood(m.id, edges)
        local = [graph.Node(n.id, n.label, "../" + (n.href or ""), n.kind) for n in nodes if n.id in near]
        kpis = data.insights.get(m.id)
        html = pages.render(
            "model", title=m.name, root="../", m=m,
            source_html=pages.highlight(m.source, m.source_language),
            sql_html=[(d, pages.highlight(code, "sql")) for d, code in m.sql.items()],
            cdi_html=pages.highlight(m.cdi_extension_sql, "sql") if m.cdi_extension_sql else "",
            graph_svg=graph.svg(local, [e for e in edges if e[0] in near and e[1] in near], highlight=m.id),
            kpis=_kpi_rows(kpis) if kpis else None, within=INSIGHTS_DAYS,
            history_svg=_history_svg(m.name, data.history.get(m.id, [])),
            **common,
        )
        path = folder / m.page
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
        written.append(path)
    return SiteResult(folder, written, data.notes)
