"""The HTML of the docs site: Jinja templates (autoescaped), one stylesheet and one small
search script, all inline, so every page opens from disk or a local server with no request
to anywhere else."""

from __future__ import annotations

import functools
from typing import Any

import jinja2

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;background:#fff}
header{background:#0b3d91;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}
main{padding:16px 24px;max-width:1200px}
h1{font-size:24px;margin:8px 0} h2{font-size:18px;margin:24px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.muted{color:#666} .tag{display:inline-block;background:#eef3fb;color:#0b3d91;border-radius:10px;padding:0 8px;margin:0 4px 0 0;font-size:13px}
#search{font-size:16px;padding:8px 10px;width:420px;border:1px solid #aaa;border-radius:6px}
table{border-collapse:collapse;margin:8px 0} th,td{border:1px solid #ddd;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f6f8fa} td.num{text-align:right;font-variant-numeric:tabular-nums}
details{margin:4px 0} summary{cursor:pointer;font-weight:600}
.highlight{background:#f6f8fa;padding:8px 12px;border-radius:6px;overflow:auto} .highlight pre{margin:0}
svg.graph .node rect{fill:#eef3fb;stroke:#0b3d91} svg.graph .node.current rect{fill:#0b3d91}
svg.graph .node.current text{fill:#fff;font-weight:600} svg.graph text{font:13px system-ui,sans-serif;fill:#1f2328}
.graphbox{overflow:auto;border:1px solid #eee;border-radius:6px;padding:8px}
"""

SEARCH_JS = """
const box = document.getElementById('search');
const rows = Array.from(document.querySelectorAll('#models tr[data-search]'));
function filter() {
  const words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
  let shown = 0;
  for (const row of rows) {
    const hit = words.every(w => row.dataset.search.includes(w));
    row.hidden = !hit; shown += hit;
  }
  document.getElementById('count').textContent = shown + ' of ' + rows.length + ' models';
}
box.addEventListener('input', filter);
filter();
"""

BASE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · {{ project }} · segsql docs</title><style>{{ css|safe }}{{ pygments_css|safe }}</style></head>
<body><header><a href="{{ root }}index.html">{{ project }}</a><a href="{{ root }}index.html">models</a><a href="{{ root }}lineage.html">lineage</a>
<span class="muted" style="color:#cfd8ea;margin-left:auto">as of {{ as_of }} · segsql {{ version }}</span></header>
<main>{% block body %}{% endblock %}</main></body></html>"""

INDEX = """{% extends "base" %}{% block body %}
<h1>Models</h1>
<p><input id="search" type="search" placeholder="search names, tags, descriptions" autofocus> <span id="count" class="muted"></span></p>
<table id="models"><thead><tr><th>name</th><th>kind</th><th>tags</th><th>description</th><th>size</th></tr></thead><tbody>
{% for m in models %}<tr data-search="{{ (m.name ~ ' ' ~ m.kind ~ ' ' ~ m.tags|join(' ') ~ ' ' ~ m.description)|lower }}">
<td><a href="{{ m.page }}">{{ m.name }}</a></td><td>{{ m.kind }}</td><td>{% for t in m.tags %}<span class="tag">{{ t }}</span>{% endfor %}</td>
<td>{{ m.description }}</td><td class="num">{{ sizes.get(m.id, '') }}</td></tr>
{% endfor %}</tbody></table>
<script>{{ search_js|safe }}</script>
{% endblock %}"""

MODEL = """{% extends "base" %}{% block body %}
<h1>{{ m.name }} <span class="muted" style="font-size:15px">{{ m.kind }}</span></h1>
<p>{{ m.description or "(no description)" }}</p>
<p>{% for t in m.tags %}<span class="tag">{{ t }}</span>{% endfor %}</p>
<table>{% for k, v in m.facts %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}<tr><th>defined in</th><td>{{ m.location }}</td></tr></table>
<h2>Definition</h2>{{ source_html|safe }}
<h2>Dependency graph</h2><div class="graphbox" id="graph">{{ graph_svg|safe }}</div>
{% if kpis %}<h2>Latest insights</h2><p class="muted">at {{ as_of }}, behaviour in the last {{ within }} days, against all users</p>
<table id="insights">{% for label, value in kpis %}<tr><th>{{ label }}</th><td class="num">{{ value }}</td></tr>{% endfor %}</table>{% endif %}
<h2>Size history</h2>{% if history_svg %}<div id="history">{{ history_svg|safe }}</div>{% else %}<p class="muted">no runs recorded yet</p>{% endif %}
{% if m.cdi_extension_sql %}<h2>Braze CDI Segment Extension</h2><p class="muted">the query a CDI Segment Extension runs against the membership table</p>{{ cdi_html|safe }}{% endif %}
<h2>Compiled SQL</h2>
{% for dialect, code in sql_html %}<details class="sql" data-dialect="{{ dialect }}"{% if loop.first %} open{% endif %}><summary>{{ dialect }}</summary>{{ code|safe }}</details>{% endfor %}
{% endblock %}"""

LINEAGE = """{% extends "base" %}{% block body %}
<h1>Lineage</h1><p class="muted">every model and what it reads; click a node to open its page</p>
<div class="graphbox" id="graph">{{ graph_svg|safe }}</div>
{% endblock %}"""


@functools.cache
def environment() -> jinja2.Environment:
    loader = jinja2.DictLoader({"base": BASE, "index": INDEX, "model": MODEL, "lineage": LINEAGE})
    return jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(css=CSS, search_js=SEARCH_JS, **context)


def highlight(code: str, language: str) -> str:
    """Syntax-highlighted HTML (Pygments, CSS classes; the stylesheet is inline in each page)."""
    from pygments import highlight as pygmentize
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import SqlLexer, YamlLexer

    lexer = SqlLexer() if language == "sql" else YamlLexer()
    return str(pygmentize(code, lexer, HtmlFormatter(cssclass="highlight")))


@functools.cache
def pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    return str(HtmlFormatter(style="default").get_style_defs(".highlight"))
