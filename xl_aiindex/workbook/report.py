"""``xl-aiindex report BOOK -o report.html``: one self-contained, bilingual HTML page.

Everything is inline: the style sheet, the charts (SVG written here, no script, no font or
image files, no external address of any kind), so the page opens offline, mails as one file
and prints to PDF (print CSS: A4, no split tables rows or figures, section headings kept with
what follows). Sections, each a ``<section id=…>``: ``summary``, ``ranking``, ``charts``,
``compare`` (pairs of Settings ``compare``), ``weights``, ``uncertainty`` (when the workbook
has UncertaintyResults or Sensitivity), ``audit`` (when it has an Audit sheet) and
``methodology`` (the tree, the weights, every method used with its formula, the tier rule).
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..model import IndexResult
from ..panel import YearResult, panel_of
from .export import read_written_sheets
from .panel_sheets import trends_table
from .results import ranking_table
from .visuals import compare_table, root_children, tier_fill, top_table

#: Section ids, in page order (``uncertainty`` and ``audit`` only when the workbook has them).
SECTIONS = ("summary", "ranking", "charts", "compare", "weights", "uncertainty", "audit",
            "methodology")

#: Formula of every method, as the methodology annex states it.
NORMALISATION_FORMULAS = {
    "minmax": "low + (high − low)·(x − min)/(max − min), range {minmax_range}",
    "efficacy": "a + b·(x − min)/(max − min), a = {efficacy_a}, b = {efficacy_b}",
    "zscore": "(x − mean)/sd (sample standard deviation, as STDEV.S)",
    "rank": "rank 1…n of x, ties averaged",
    "percentile": "100·(rank − 1)/(n − 1)",
    "goalposts": "{goalposts_scale}·(clamp(x, goal_low, goal_high) − goal_low)/(goal_high − goal_low)",
}
AGGREGATION_FORMULAS = {
    "arithmetic": "Σ wᵢ·sᵢ (weights within the node sum to 1)",
    "geometric": "Π sᵢ^wᵢ (scores must be positive)",
    "harmonic": "1 / Σ (wᵢ/sᵢ) (scores must be positive)",
    "copeland": "wins − losses of each unit in pairwise comparisons over the children, weighted",
}
WEIGHTING_FORMULAS = {
    "given": "the Framework's weight cells, relative to the siblings",
    "equal": "1/k for each of k children",
    "entropy": "p = s/Σs, e = −Σ p·ln p / ln n, w ∝ 1 − e",
    "critic": "C = sd · Σ(1 − r) on min-max scaled children, w ∝ C",
    "sd": "w ∝ sample standard deviation of each child",
    "pca": "w ∝ squared loading on the first principal component",
    "ahp": "principal eigenvector of the pairwise matrix (sheet AHP_<node>)",
    "budget": "mean share of each expert's points (sheet Budget_<node>)",
}

_CSS = """
:root { --ink: #222; --muted: #666; --rule: #d0d0d0; --head: #1f4e78; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "Source Han Sans SC",
       "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 2em auto; max-width: 60em;
       padding: 0 1em; line-height: 1.45; font-size: 11pt; }
h1 { color: var(--head); font-size: 1.7em; margin-bottom: .1em; }
h1 .en, h2 .en, h3 .en { color: var(--muted); font-weight: normal; font-size: .75em; }
h2 { color: var(--head); border-bottom: 2px solid var(--head); padding-bottom: .15em;
     margin-top: 1.8em; }
p.meta { color: var(--muted); margin-top: 0; }
table { border-collapse: collapse; margin: .6em 0 1em; font-size: .9em; }
th, td { padding: .2em .5em; border-bottom: 1px solid var(--rule); text-align: left;
         white-space: nowrap; }
td.wrap { white-space: normal; }
th { background: var(--head); color: #fff; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: .8em 0 1.2em; }
figcaption { color: var(--muted); font-size: .85em; }
.charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: .5em 1.2em; }
.charts figure { margin: .4em 0; }
ul.tree { list-style: none; padding-left: 1.2em; margin: .2em 0; }
ul.tree li { margin: .1em 0; }
.w { color: var(--muted); }
.note { color: var(--muted); font-size: .9em; }
@media print {
  @page { size: A4; margin: 15mm 12mm; }
  body { margin: 0; max-width: none; font-size: 9.5pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure, tr, .charts figure { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  section#methodology { break-before: page; page-break-before: always; }
}
"""

_FONT = '"Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif'


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def _num(v: Any, digits: int = 2) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return _e(v)
    if not math.isfinite(f):
        return ""
    text = f"{f:.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text   # no "-0.00"


def _h2(zh: str, en: str) -> str:
    return f'<h2>{_e(zh)} <span class="en">{_e(en)}</span></h2>'


def _table(table: pd.DataFrame, digits: dict[str, int] | None = None,
           row_fills: Sequence[str] | None = None, wrap: Sequence[str] = ()) -> str:
    """An HTML table of ``table``; numeric cells right-aligned with ``digits`` decimals
    (default 2; whole-number columns such as ranks as integers)."""
    digits = digits or {}
    cols = [str(c) for c in table.columns]
    out = ["<table><thead><tr>", *[f"<th>{_e(c)}</th>" for c in cols], "</tr></thead><tbody>"]
    for i, row in enumerate(table.itertuples(index=False, name=None)):
        style = f' style="background:#{row_fills[i]}"' if row_fills else ""
        out.append(f"<tr{style}>")
        for c, v in zip(cols, row, strict=True):
            if isinstance(v, int | float) and not isinstance(v, bool):
                if v != v:
                    out.append("<td></td>")
                else:
                    d = digits.get(c, 0 if float(v).is_integer() and c in _WHOLE else 2)
                    out.append(f'<td class="num">{_num(v, d)}</td>')
            else:
                cls = ' class="wrap"' if c in wrap else ""
                out.append(f"<td{cls}>{_e(v if v is not None and v == v else '')}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


_WHOLE = {"rank", "tier", "count", "position", "nominal_rank", "runs", "rank_a", "rank_b"}


# ---- SVG charts -----------------------------------------------------------------------------

def svg_bars(title: str, labels: Sequence[str], values: Sequence[float],
             fills: Sequence[str], width: int = 460) -> str:
    """A horizontal bar chart (first label on top) as inline SVG: value labels at the bar ends,
    a 0–max axis with grid lines."""
    row, top, left, right = 19, 34, 78, 44
    n = len(values)
    height = top + n * row + 24
    finite = [v for v in values if v == v]
    vmax = max([*finite, 0.0]) or 1.0
    step = _nice_step(vmax)
    axis_max = math.ceil(vmax / step) * step
    scale = (width - left - right) / axis_max
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{_e(title)}" font-family=\'{_FONT}\' font-size="11">',
             f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="13" '
             f'font-weight="bold">{_e(title)}</text>']
    tick = 0.0
    while tick <= axis_max + 1e-9:
        x = left + tick * scale
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{top + n * row}" '
                     'stroke="#e0e0e0"/>')
        parts.append(f'<text x="{x:.1f}" y="{top + n * row + 14}" text-anchor="middle" '
                     f'fill="#666" font-size="9">{tick:g}</text>')
        tick += step
    for i, (label, v, fill) in enumerate(zip(labels, values, fills, strict=True)):
        y = top + i * row
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{_e(label)}</text>')
        if v == v:
            w = max(v, 0.0) * scale
            parts.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 5}" '
                         f'fill="#{fill}" stroke="#7f7f7f" stroke-width="0.6"/>')
            parts.append(f'<text x="{left + w + 3:.1f}" y="{y + 13}" font-size="9.5" '
                         f'fill="#404040">{v:.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_pair(title: str, categories: Sequence[str], a: Sequence[float], b: Sequence[float],
             names: tuple[str, str], width: int = 460) -> str:
    """Clustered columns of two units over ``categories`` as inline SVG, with a legend."""
    colors = ("1F4E78", "C55A11")
    top, bottom, left = 34, 48, 30
    height = 240
    plot_h = height - top - bottom
    finite = [v for v in (*a, *b) if v == v]
    vmax = max([*finite, 0.0]) or 1.0
    step = _nice_step(vmax)
    axis_max = math.ceil(vmax / step) * step
    group = (width - left - 10) / max(len(categories), 1)
    bar = group * 0.32
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{_e(title)}" font-family=\'{_FONT}\' font-size="10">',
             f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="13" '
             f'font-weight="bold">{_e(title)}</text>']
    tick = 0.0
    while tick <= axis_max + 1e-9:
        y = top + plot_h - tick / axis_max * plot_h
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" '
                     'stroke="#e0e0e0"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#666" '
                     f'font-size="9">{tick:g}</text>')
        tick += step
    for i, cat in enumerate(categories):
        x0 = left + i * group + group * 0.16
        for j, vals in enumerate((a, b)):
            v = vals[i]
            if v != v:
                continue
            h = max(v, 0.0) / axis_max * plot_h
            x = x0 + j * bar
            parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="#{colors[j]}"/>')
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{top + plot_h - h - 3:.1f}" '
                         f'text-anchor="middle" font-size="8" fill="#404040">{v:.1f}</text>')
        parts.append(f'<text x="{left + (i + 0.5) * group:.1f}" y="{top + plot_h + 14}" '
                     f'text-anchor="middle">{_e(cat)}</text>')
    ly = height - 12
    for j, name in enumerate(names):
        lx = width / 2 - 60 + j * 80
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="#{colors[j]}"/>'
                     f'<text x="{lx + 14}" y="{ly}">{_e(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_intervals(title: str, labels: Sequence[str], median: Sequence[float],
                  low: Sequence[float], high: Sequence[float], n_units: int,
                  width: int = 620) -> str:
    """Rank intervals as inline SVG: a dot at the median rank, a line from the 5th to the 95th
    percentile rank, one row per unit (rank 1 on the left)."""
    row, top, left, right = 16, 34, 78, 20
    height = top + len(labels) * row + 24
    span = max(n_units, 2) - 1
    scale = (width - left - right) / span
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{_e(title)}" font-family=\'{_FONT}\' font-size="10">',
             f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="13" '
             f'font-weight="bold">{_e(title)}</text>']
    step = max(1, round(span / 10))
    for r in range(1, n_units + 1, step):
        x = left + (r - 1) * scale
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" '
                     f'y2="{top + len(labels) * row}" stroke="#e8e8e8"/>'
                     f'<text x="{x:.1f}" y="{top + len(labels) * row + 13}" '
                     f'text-anchor="middle" fill="#666" font-size="9">{r}</text>')
    for i, label in enumerate(labels):
        y = top + i * row + row / 2
        parts.append(f'<text x="{left - 6}" y="{y + 3.5:.1f}" text-anchor="end">{_e(label)}</text>')
        x1, x2 = left + (low[i] - 1) * scale, left + (high[i] - 1) * scale
        xm = left + (median[i] - 1) * scale
        parts.append(f'<line x1="{x1:.1f}" y1="{y:.1f}" x2="{x2:.1f}" y2="{y:.1f}" '
                     'stroke="#1f4e78" stroke-width="2"/>'
                     f'<circle cx="{xm:.1f}" cy="{y:.1f}" r="3.5" fill="#c55a11"/>')
    parts.append("</svg>")
    return "".join(parts)


def _nice_step(vmax: float) -> float:
    raw = vmax / 5
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


# ---- sections -------------------------------------------------------------------------------

def _summary(result: IndexResult, book: Path) -> str:
    s = result.model.settings
    root = result.model.node(result.root)
    zh = s.name_zh or root.name_zh
    en = s.name_en or root.name_en
    ranked = int(result.rank.notna().sum())
    n_nodes = len(result.model.nodes)
    levels = _depth(result)
    return (f'<section id="summary"><h1>{_e(zh)}<br><span class="en">{_e(en)}</span></h1>'
            f'<p class="meta">来源 Source: {_e(book.name)} · {ranked} 个单位 units ranked · '
            f"{n_nodes} 个节点 nodes in {levels} 层 levels · 输入 input = {_e(s.input)}"
            + (f" · 年份 year {result.year}" if isinstance(result, YearResult) else "")
            + "</p>"
            "</section>")


def _trends(result: IndexResult) -> str:
    """A panel's Trends table (each unit's index per year, change and rank change first →
    last year; :func:`~xl_aiindex.workbook.panel_sheets.trends_table`); "" for one edition."""
    panel = panel_of(result)
    if panel is None:
        return ""
    table = trends_table(panel)
    first, last = panel.years[0], panel.years[-1]
    shown = f"{result.year}" if isinstance(result, YearResult) else str(last)
    return (f'<section id="trends">{_h2("各年趋势", "Trends over the years")}'
            f'<p class="note">{first}–{last} · panel_normalisation = {_e(panel.mode)} · '
            f"排名与图表：{_e(shown)} 年 · ranking and charts: {_e(shown)}</p>"
            f"{_table(table, {'rank_change': 0})}</section>")


def _depth(result: IndexResult) -> int:
    by_id = {n.id: n for n in result.model.nodes}
    best = 0
    for n in result.model.nodes:
        d, cur = 0, n
        while cur.parent is not None:
            cur = by_id[cur.parent]
            d += 1
        best = max(best, d)
    return best + 1


def _ranking(result: IndexResult) -> str:
    table = ranking_table(result)
    rule = result.model.settings.tiers
    # the table shows the tier's label; its number (for the colours) is the result's
    tiers = [int(t) if t == t else 0 for t in table["unit"].map(result.tier)]
    shown = table.copy()
    shown["tier"] = [rule.label(t) if t else "" for t in tiers]
    counts = ", ".join(f"{rule.label(t)} {tiers.count(t)}" for t in range(1, rule.count + 1))
    return (f'<section id="ranking">{_h2("排名与梯队", "Ranking and tiers")}'
            f'<p class="note">梯队 Tiers ({_e(_tier_rule(result))}): {_e(counts)}</p>'
            f"{_table(shown, row_fills=[tier_fill(t) for t in tiers])}</section>")


def _tier_rule(result: IndexResult) -> str:
    rule = result.model.settings.tiers
    bounds = ",".join(f"{b:g}" for b in rule.bounds)
    return f"{rule.kind}:{bounds}"


def _charts(result: IndexResult) -> tuple[str, int]:
    n = result.model.settings.chart_top
    figs = []
    for node in [result.root, *root_children(result)] if n > 0 else []:
        top = top_table(result, node, n)
        nd = result.model.node(node)
        labels = [str(z or e or u) for z, e, u in zip(top["name_zh"], top["name_en"], top["unit"],
                                                       strict=True)]
        fills = [tier_fill(int(t) if t == t else 0) for t in top["tier"]]
        title = f"{nd.name_zh or nd.name_en or nd.id} TOP {len(top)}"
        figs.append(f"<figure>{svg_bars(title, labels, [float(v) for v in top['score']], fills)}"
                    f"<figcaption>{_e(nd.name_en or nd.id)}: TOP {len(top)}; "
                    "颜色为梯队 bars coloured by tier</figcaption></figure>")
    body = "".join(figs) if figs else '<p class="note">chart_top = 0: 无图 no charts</p>'
    return (f'<section id="charts">{_h2("图表", "Charts")}<div class="charts">{body}</div>'
            "</section>", len(figs))


def _compare(result: IndexResult) -> tuple[str, int]:
    if not result.model.settings.compare:
        return (f'<section id="compare">{_h2("城市对比", "Comparisons")}'
                '<p class="note">Settings compare 为空 lists no pairs</p></section>', 0)
    table = compare_table(result)
    figs = []
    for _pair, block in table.groupby("pair", sort=False):
        kids = block[block["node"] != result.root]
        names = (str(block["name_a"].iloc[0]), str(block["name_b"].iloc[0]))
        figs.append("<figure>" + svg_pair(
            f"{names[0]} / {names[1]}", [str(x) for x in kids["name_zh"]],
            [float(v) for v in kids["score_a"]], [float(v) for v in kids["score_b"]], names)
            + "</figure>")
    shown = table.drop(columns=["unit_a", "unit_b"])
    return (f'<section id="compare">{_h2("城市对比", "Comparisons")}'
            f'<div class="charts">{"".join(figs)}</div>{_table(shown)}</section>', len(figs))


def _weights(result: IndexResult) -> str:
    table = result.weights_used.copy()
    names = {n.id: n for n in result.model.nodes}
    table.insert(2, "name_zh", [names[c].name_zh for c in table["child"]])
    table.insert(3, "name_en", [names[c].name_en for c in table["child"]])
    return (f'<section id="weights">{_h2("权重", "Weights in use")}'
            f"{_table(table, digits={'weight': 4, 'weight_in_total': 4})}</section>")


def _uncertainty(sheets: dict[str, pd.DataFrame]) -> tuple[str, int]:
    res, sens = sheets.get("uncertaintyresults"), sheets.get("sensitivity")
    if res is None and sens is None:
        return "", 0
    parts = [f'<section id="uncertainty">{_h2("不确定性与敏感性", "Uncertainty and sensitivity")}']
    figs = 0
    if res is not None and {"median_rank", "rank_q05", "rank_q95"} <= set(res.columns):
        ok = res.dropna(subset=["median_rank", "rank_q05", "rank_q95"])
        labels = [str(z or u) for z, u in zip(ok.get("name_zh", ok["unit"]), ok["unit"],
                                               strict=True)]
        parts.append("<figure>" + svg_intervals(
            "排名区间 Rank intervals (median, 5%–95%)", labels,
            [float(v) for v in ok["median_rank"]], [float(v) for v in ok["rank_q05"]],
            [float(v) for v in ok["rank_q95"]], len(res)) + "</figure>")
        figs += 1
    if res is not None:
        parts.append(_table(res))
    if sens is not None:
        parts.append("<h3>Sobol 敏感性指数 <span class=\"en\">Sobol sensitivity indices</span></h3>")
        parts.append(_table(sens, digits={c: 3 for c in sens.columns if c != "runs"}))
    parts.append("</section>")
    return "".join(parts), figs


def _audit(sheets: dict[str, pd.DataFrame]) -> str:
    audit = sheets.get("audit")
    if audit is None:
        return ""
    return f'<section id="audit">{_h2("审计", "Audit")}{_table(audit)}</section>'


def _methodology(result: IndexResult) -> str:
    model = result.model
    s = model.settings
    children: dict[str | None, list[str]] = {}
    for n in model.nodes:
        children.setdefault(n.parent, []).append(n.id)
    w = result.weights_used.set_index("child")
    inner = {n.id for n in model.nodes if n.id in children}

    def label(node_id: str) -> str:
        n = model.node(node_id)
        weight = ""
        if node_id in w.index:
            weight = (f' <span class="w">w = {float(w.at[node_id, "weight"]):.3f}, '
                      f'in total {float(w.at[node_id, "weight_in_total"]):.4f}</span>')
        return (f"<li><b>{_e(n.id)}</b> {_e(n.name_zh)} <span class=\"en\">{_e(n.name_en)}</span>"
                f"{weight}")

    # nested lists written with an explicit stack, not recursion: the tree may have any depth
    parts = ['<ul class="tree">']
    stack: list[str | None] = [result.root]
    while stack:
        node_id = stack.pop()
        if node_id is None:  # the end of a node with children
            parts.append("</ul></li>")
            continue
        parts.append(label(node_id))
        kids = children.get(node_id, [])
        if kids:
            parts.append('<ul class="tree">')
            stack.append(None)
            stack.extend(reversed(kids))
        else:
            parts.append("</li>")
    parts.append("</ul>")
    tree = "".join(parts)
    params = {"minmax_range": f"{s.minmax_range[0]:g}–{s.minmax_range[1]:g}",
              "efficacy_a": f"{s.efficacy_a:g}", "efficacy_b": f"{s.efficacy_b:g}",
              "goalposts_scale": f"{s.goalposts_scale:g}"}
    rows: list[tuple[str, str, str, str]] = []
    if s.input == "data":
        used_norm = sorted({model.node(leaf).normalisation or s.normalisation
                            for leaf in (n.id for n in model.nodes if n.id not in inner)})
        for m in used_norm:
            rows.append(("标准化 normalisation", m, NORMALISATION_FORMULAS.get(m, "").format(
                **params), _who(result, lambda n, m=m: n.id not in inner and
                                (n.normalisation or s.normalisation) == m)))
    scored = {c for c in result.scores.columns if result.scores[c].notna().any()}
    agg_nodes = [n for n in model.nodes if n.id in inner and
                 all(k in scored for k in children.get(n.id, []))]
    for m in sorted({n.aggregation or s.aggregation for n in agg_nodes}):
        rows.append(("合成 aggregation", m, AGGREGATION_FORMULAS.get(m, ""),
                     ", ".join(n.id for n in agg_nodes if (n.aggregation or s.aggregation) == m)))
    for m in sorted({n.weighting or "given" for n in agg_nodes}):
        rows.append(("权重 weighting", m, WEIGHTING_FORMULAS.get(m, ""),
                     ", ".join(n.id for n in agg_nodes if (n.weighting or "given") == m)))
    methods = pd.DataFrame(rows, columns=["kind", "method", "formula", "nodes"])
    start = ("由 Data 表原始数据计算 computed from the raw data (Data)" if s.input == "data" else
             "从 Given 表的给定得分开始 starting from the scores given in the Given sheet")
    other = [
        ("输入 input", start),
        ("梯队 tiers", f"{_tier_rule(result)} → " + "; ".join(
            s.tiers.label(t) for t in range(1, s.tiers.count + 1))),
        ("排名 ranking", "名次 1 = 最高总分；并列取较好名次 rank 1 = highest total; ties share "
                         "the better rank" + (f"; scores rounded to {s.rank_decimals} decimals"
                                             if s.rank_decimals is not None else "")),
        ("缺失值 missing", s.missing), ("异常值 outliers", s.outliers),
        ("权重规则 weights", s.weights),
    ]
    facts = "".join(f'<tr><td>{_e(k)}</td><td class="wrap">{_e(v)}</td></tr>'
                    for k, v in other)
    return (f'<section id="methodology">{_h2("方法附录", "Methodology annex")}'
            f"<h3>指标体系 <span class=\"en\">Indicator tree and weights</span></h3>{tree}"
            f"<h3>方法与公式 <span class=\"en\">Methods used and their formulas</span></h3>"
            f"{_table(methods, wrap=('formula', 'nodes'))}"
            f"<table><tbody>{facts}</tbody></table></section>")


def _who(result: IndexResult, pred: Any) -> str:
    return ", ".join(n.id for n in result.model.nodes if pred(n))


def report_html(result: IndexResult, book: str | os.PathLike[str]) -> tuple[str, dict[str, int]]:
    """The page for ``result`` computed from ``book`` (whose UncertaintyResults, Sensitivity
    and Audit sheets are shown when present), and counts: ``sections``, ``charts``."""
    path = Path(book)
    sheets = read_written_sheets(path, ("UncertaintyResults", "Sensitivity", "Audit"))
    charts, n_charts = _charts(result)
    compare, n_compare = _compare(result)
    uncertainty, n_unc = _uncertainty(sheets)
    sections = [_summary(result, path), _ranking(result), _trends(result), charts, compare,
                _weights(result), uncertainty, _audit(sheets), _methodology(result)]
    body = "".join(s for s in sections if s)
    s = result.model.settings
    title = s.name_zh or s.name_en or result.root
    page = ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>{body}"
            '<p class="note">xl-aiindex report</p></body></html>\n')
    return page, {"sections": sum(1 for s in sections if s),
                  "charts": n_charts + n_compare + n_unc}


def write_report(result: IndexResult, book: str | os.PathLike[str],
                 output: str | os.PathLike[str]) -> dict[str, int]:
    """Write :func:`report_html` to ``output`` (UTF-8) atomically
    (:func:`~xl_aiindex.workbook.files.write_file`); returns its counts. Refuses
    (:class:`~xl_aiindex.errors.UnsafeWrite`, nothing written) an output not named ``.html``
    or ``.htm`` (``report.pdf``, the workbook itself), or one that is read-only, open in
    Excel or LibreOffice, or not a regular file."""
    from .files import check_destination, write_file

    target = Path(output)
    check_destination(target, REPORT_SUFFIXES, "HTML report", [Path(book)])
    page, counts = report_html(result, book)
    write_file(target, page, suffixes=REPORT_SUFFIXES, kind="HTML report", inputs=[Path(book)])
    return counts


#: What a report may be named: it is HTML (print it to PDF from a browser).
REPORT_SUFFIXES = (".html", ".htm")
