"""The daily report: one self-contained HTML page (charts inlined as SVG, no external assets).

Window: the 7 days ending on the report day (default: the last day with paragraphs). Sections: the
numbers of the week, alerts, top narratives with change against the week before — both levels: a discovered
narrative names its codebook frame, a codebook narrative lists the specific claims inside it — and evidence
paragraphs (outlet, date, stance, link), and three charts. Rendered with Jinja2 (autoescaped).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import jinja2

from narrative_tracker import db, textsafe
from narrative_tracker.outfiles import check_output, write_atomic
from narrative_tracker.surfaces import charts, network

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Narrative report — {{ day }}</title>
<style>
 body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2329; margin: 0; background: #f5f6f8; }
 main { max-width: 980px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
 h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 32px 0 10px; border-bottom: 2px solid #e3e6ea; padding-bottom: 4px; }
 .sub { color: #5c6670; margin: 0 0 18px; }
 .stats { display: flex; gap: 14px; flex-wrap: wrap; } .stat { background: #f0f3f7; border-radius: 8px; padding: 10px 16px; min-width: 120px; }
 .stat b { display: block; font-size: 22px; }
 table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e9ecef; vertical-align: top; }
 th { font-size: 13px; color: #5c6670; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
 .up { color: #c0392b; } .down { color: #2471a3; }
 .tag { font-size: 12px; border-radius: 10px; padding: 1px 8px; background: #eef1f4; color: #44505c; white-space: nowrap; }
 .codebook { background: #fdebd0; color: #7e5109; } .discovered { background: #e8f6f3; color: #0e6655; }
 .spike { background: #fadbd8; color: #922b21; } .emerging { background: #d6eaf8; color: #1b4f72; }
 blockquote { margin: 6px 0 10px; padding: 6px 12px; border-left: 3px solid #d5d8dc; color: #333; background: #fafbfc; }
 .meta { font-size: 13px; color: #5c6670; } .chart { margin: 12px 0; overflow-x: auto; } footer { margin-top: 36px; font-size: 12px; color: #7b8690; }
</style></head>
<body><main>
<h1>Narratives — week ending {{ day }}</h1>
<p class="sub">{{ start }} to {{ day }} · database <code>{{ db_path }}</code>{% if language %} · paragraphs in <b>{{ language }}</b> only{% endif %}</p>
<div class="stats">
 <div class="stat"><b>{{ stats.articles }}</b>articles</div>
 <div class="stat"><b>{{ stats.paragraphs }}</b>paragraphs</div>
 <div class="stat"><b>{{ stats.outlets }}</b>outlets</div>
 <div class="stat"><b>{{ stats.narratives }}</b>narratives seen</div>
 <div class="stat"><b>{{ alerts|length }}</b>alerts</div>
</div>

<h2>Alerts: spikes and new narratives</h2>
{% if alerts %}<table><tr><th>day</th><th>kind</th><th>what</th></tr>
{% for a in alerts %}<tr><td>{{ a.day }}</td><td><span class="tag {{ a.kind }}">{{ a.kind }}</span></td><td>{{ a.message }}</td></tr>{% endfor %}
</table>{% else %}<p class="meta">No spikes or emerging narratives this week.</p>{% endif %}

<h2>Top narratives this week</h2>
<table><tr><th>narrative</th><th class="num">paragraphs</th><th class="num">asserted</th><th class="num">stance unknown</th><th class="num">outlets (independent)</th><th>languages</th><th class="num">vs week before</th></tr>
{% for n in narratives %}<tr><td><span class="tag {{ n.origin }}">{{ n.origin }}</span> {{ n.label }}{% if n.terms %}<div class="meta">{{ n.terms|join(" · ") }}</div>{% endif %}
{% if n.parent_label %}<div class="meta">inside <span class="tag codebook">codebook</span> {{ n.parent_label }}</div>{% endif %}
{% if children.get(n.narrative_id) %}<div class="meta">specific claims inside it: {% for c in children[n.narrative_id] %}{{ c.label }} ({{ c.paragraphs }}){% if not loop.last %} · {% endif %}{% endfor %}</div>{% endif %}</td>
<td class="num">{{ n.paragraphs }}</td><td class="num">{{ n.asserted }}</td><td class="num">{{ n.unknown_stance }}</td><td class="num">{% if n.unknown_outlet %}{{ n.outlets }} + unnamed{% else %}{{ n.outlets }}{% endif %} ({{ n.independent_outlets }})</td>
<td>{% for l in languages.get(n.narrative_id, []) %}<span class="tag">{{ l.language }} {{ l.paragraphs }}</span> {% endfor %}</td>
<td class="num {% if n.change > 0 %}up{% elif n.change < 0 %}down{% endif %}">{{ "%+d"|format(n.change) }}</td></tr>{% endfor %}
</table>

<h2>Evidence</h2>
<p class="meta">The paragraphs that assert each narrative most confidently (the pair model's probability of “asserts”).
Paragraphs that report, question or debunk a narrative are never shown as its evidence.</p>
{% for n in narratives %}<h3>{{ n.label }}</h3>{% if n.terms %}<div class="meta">terms: {{ n.terms|join(", ") }}</div>{% endif %}
{% if not evidence.get(n.narrative_id) %}<p class="meta">No paragraph asserts it this week{% if n.paragraphs %} ({{ n.paragraphs }} report, question or refute it){% endif %}.</p>{% endif %}
{% for e in evidence.get(n.narrative_id, []) %}<blockquote>{{ e.text }}</blockquote>
<div class="meta"><span class="tag" title="paragraph language">{{ e.language }}</span> · {{ e.outlet }} · {{ e.day }} · <span class="tag">{{ e.stance or "stance unknown" }}</span>{% if e.url %} · {% if e.url|web_link %}<a href="{{ e.url|web_link }}" rel="noopener noreferrer nofollow">{{ e.url }}</a>{% else %}<span class="meta">{{ e.url }}</span>{% endif %}{% endif %}{% if e.title and e.title != e.text %} · “{{ e.title }}”{% endif %}</div>
{% endfor %}{% endfor %}

<h2>Who leads whom</h2>
{% if network.edges %}<p class="meta">The outlet influence network, inferred with NETINF from the order outlets took up every narrative
(all days held). A <b>leader</b> took a narrative up with no outlet it follows ahead of it and was followed; an <b>amplifier</b>
took it from an outlet it follows and was followed in turn. “+N” = outlets that took it from this one.</p>
<table><tr><th>narrative</th><th>leaders</th><th>amplifiers</th></tr>
{% for n in narratives %}{% set r = network.roles.get(n.narrative_id, {}) %}<tr><td>{{ n.label }}</td>
<td>{% for o in r.get("leader", []) %}{{ o.outlet }} <span class="tag">+{{ o.followers }}</span> {% else %}<span class="meta">none</span>{% endfor %}</td>
<td>{% for o in r.get("amplifier", []) %}{{ o.outlet }} <span class="tag">+{{ o.followers }}</span> {% else %}<span class="meta">none</span>{% endfor %}</td></tr>{% endfor %}
</table>
<h3>Strongest edges</h3>
<table><tr><th>outlet</th><th>followed by</th><th class="num">narratives</th><th class="num">weight</th><th class="num">median lag (days)</th><th class="num">copied paragraphs</th></tr>
{% for e in network.edges %}<tr><td>{{ e.source }}</td><td>{{ e.target }}</td><td class="num">{{ e.support }}</td><td class="num">{{ e.weight }}</td><td class="num">{{ e.median_lag_days }}</td><td class="num">{{ e.copied_paragraphs }}</td></tr>{% endfor %}
</table>
{% for q in network.quick %}<h3>Outlets that took up more than {{ network.min_narratives }} narratives within a day of {{ q.outlet }}</h3>
{% if q.rows %}<table><tr><th>outlet</th><th class="num">narratives</th><th class="num">mean lag (days)</th></tr>
{% for r in q.rows %}<tr><td>{{ r.outlet }}</td><td class="num">{{ r.narratives }}</td><td class="num">{{ r.mean_lag_days }}</td></tr>{% endfor %}
</table>{% else %}<p class="meta">None.</p>{% endif %}{% endfor %}
<div class="chart">{{ network.svg|safe }}</div>
{% else %}<p class="meta">No influence edges yet: the network needs narratives taken up by several outlets, repeatedly
(the <code>outlet_influence</code> asset computes it after every run).</p>{% endif %}

<h2>Charts</h2>
{% for svg in chart_svgs %}<div class="chart">{{ svg|safe }}</div>{% endfor %}
<footer>Generated {{ generated }} by narrative-tracker. Counts are paragraphs carrying a narrative; “asserted” counts only
paragraphs that push it in their own voice (not reports or debunks); “stance unknown” counts paragraphs no stance could be
computed for (never counted as asserted). A discovered narrative's label is its most central member sentence. Two levels:
a codebook narrative is a frame; discovered narratives are the specific claims, inside a frame (“inside”, when most of their
paragraphs carry it) or outside every frame, so a paragraph can count for a frame and for a claim inside it.</footer>
</main></body></html>
"""


_WEB_SCHEMES = ("http", "https")


def web_link(url: str | None) -> str | None:
    """``url`` when it is a plain ``http``/``https`` address with a host, else ``None`` (shown as text, never a link).

    An article's URL comes from its input file, so it is untrusted: ``javascript:``, ``data:``, ``vbscript:``,
    ``file:``, scheme-relative ``//host`` and anything with whitespace or control characters (which browsers
    strip, turning `` java\tscript:`` into a live link) are refused. Jinja's autoescape then quotes it.
    """
    if not url or any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in _WEB_SCHEMES and parts.netloc else None


def render_report(con: duckdb.DuckDBPyConnection, day: dt.date | None = None, db_path: str = "", top: int = 8,
                  language: str | None = None) -> str:
    """The HTML report for the week ending ``day`` (default: the latest publication day).

    ``language`` (ISO 639-1, e.g. ``ru``): count and quote only paragraphs in that language; every narrative
    row shows its paragraphs per language either way, and every quoted paragraph its language."""
    # default: the latest publication day (undated articles, filed under their ingestion day, do not move it)
    last = con.execute(
        "SELECT coalesce(max(a.published_date), max(p.partition_date)) FROM paragraphs p JOIN articles a USING (article_id)"
    ).fetchone()[0]
    day = day or last or dt.date.today()
    start = day - dt.timedelta(days=6)
    params = {"start": start, "end": day, "language": language or None}
    stats = con.execute(db.query("report_stats"), params).fetchone()
    narratives = con.execute(db.query("report_narratives"), params | {"top": top}).pl().to_dicts()
    evidence: dict[str, list[dict]] = {}
    for row in con.execute(db.query("report_evidence"), params | {"ids": [n["narrative_id"] for n in narratives]}).pl().to_dicts():
        evidence.setdefault(row["narrative_id"], []).append(row)
    children: dict[str, list[dict]] = {}
    for row in con.execute(db.query("report_children"), params | {"ids": [n["narrative_id"] for n in narratives if n["origin"] == "codebook"]}).pl().to_dicts():
        children.setdefault(row["parent_narrative_id"], []).append(row)
    languages: dict[str, list[dict]] = {}
    for row in con.execute(db.query("report_languages"), params | {"ids": [n["narrative_id"] for n in narratives]}).pl().to_dicts():
        languages.setdefault(row["narrative_id"], []).append(row)
    alerts = con.execute(
        "SELECT day, kind, message FROM alerts WHERE day BETWEEN $start AND $end ORDER BY day DESC, kind",
        {"start": start, "end": day},
    ).pl().to_dicts()
    chart_svgs = [charts.svg_text(c) for c in (
        charts.share_over_time(con, day), charts.outlet_heatmap(con, day, days=7), charts.alerts_timeline(con, day),
    )]
    influence = network_section(con, [n["narrative_id"] for n in narratives])
    # every value shown passes textsafe.for_chart (controls an older version stored are invalid in HTML), then autoescape
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, finalize=textsafe.for_chart)
    env.filters["web_link"] = web_link
    return env.from_string(TEMPLATE).render(
        day=day, start=start, db_path=db_path,
        stats={"articles": stats[0], "paragraphs": stats[1], "outlets": stats[2], "narratives": stats[3]},
        alerts=alerts, narratives=narratives, evidence=evidence, children=children, languages=languages, language=language, chart_svgs=chart_svgs,
        network=influence,
        generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )


def network_section(con: duckdb.DuckDBPyConnection, narrative_ids: list[str], leaders: int = 3) -> dict:
    """What the report shows of the influence network: the top narratives' leaders and amplifiers, the strongest
    edges and their plot, and, for the ``leaders`` outlets that led the most narratives, their quick followers."""
    edges = network.top_edges(con, 10).to_dicts()
    if not edges:
        return {"edges": []}
    quick = [{"outlet": o, "rows": network.quick_followers(con, o).to_dicts()}
             for o in network.top_leaders(con, leaders)["outlet"].to_list()]
    return {"edges": edges, "roles": network.narrative_roles(con, narrative_ids), "quick": quick,
            "min_narratives": network.QUICK_MIN_NARRATIVES, "svg": charts.svg_text(charts.influence_network(con))}


def write_report(db_path: str | os.PathLike, out: str | os.PathLike, day: dt.date | None = None,
                 language: str | None = None) -> Path:
    """Render the report and write it to ``out`` atomically; ``out`` is checked first (never the database, a link or
    a folder: ``outfiles.check_output`` raises ``OutputError``)."""
    out = check_output(out, db_path)
    with db.connection(db_path, read_only=True) as con:
        html = render_report(con, day, str(db_path), language=language)
    return write_atomic(out, html)
