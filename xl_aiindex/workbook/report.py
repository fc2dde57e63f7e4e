"""``xl-aiindex report BOOK -o report.html`` (or ``report.pdf``): one self-contained, bilingual
page.

Everything is inline: the style sheet, the charts (SVG, :mod:`.report_svg`), no script, font or
image file, no external address of any kind, so the page opens offline, mails as one file and
prints to A4 (print CSS: no split table rows or figures, headings kept with what follows). Tables
have Chinese and English headers and numbers formatted by meaning, and are split into column
groups no wider than the page (:mod:`.report_table`). Sections, each a ``<section id=…>``:
``summary``, ``ranking``, ``charts``, ``compare`` (pairs of Settings ``compare``), ``weights``,
``uncertainty`` (when the workbook has UncertaintyResults or Sensitivity), ``audit`` (when it has
an Audit sheet) and ``methodology`` (:mod:`.report_annex`). A ``.pdf`` output is printed by a
headless browser (:mod:`.report_pdf`). Nothing in the page tells the reader to run a command:
such advice goes to the terminal as the command's notes.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..i18n import _
from ..model import IndexResult
from ..panel import YearResult, panel_of
from ..uncertainty import CI_WIDTH
from .export import read_written_sheets
from .panel_sheets import trends_table
from .report_annex import annex_html, tier_rule_text
from .report_svg import svg_bars, svg_intervals, svg_pair
from .report_table import columns_for, format_value, html_tables, unit_word
from .results import ranking_table
from .visuals import compare_table, root_children, tier_fill, top_table

#: Section ids, in page order (``uncertainty`` and ``audit`` only when the workbook has them).
SECTIONS = ("summary", "ranking", "charts", "compare", "weights", "uncertainty", "audit",
            "methodology")

#: What a report may be named: a page (``.html``, ``.htm``) or the page printed (``.pdf``).
REPORT_SUFFIXES = (".html", ".htm", ".pdf")

_CSS = """
:root { --ink: #222; --muted: #666; --rule: #d0d0d0; --head: #1f4e78; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "Source Han Sans SC",
       "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 2em auto; max-width: 62em;
       padding: 0 1.5em; line-height: 1.45; font-size: 11pt; }
h1 { color: var(--head); font-size: 1.7em; margin-bottom: .1em; }
h1 .en, h2 .en, h3 .en { color: var(--muted); font-weight: normal; font-size: .75em; }
h2 { color: var(--head); border-bottom: 2px solid var(--head); padding-bottom: .15em;
     margin-top: 1.8em; }
h3 { margin: 1.2em 0 .3em; }
p.meta { color: var(--muted); margin-top: 0; }
table { border-collapse: collapse; margin: .6em 0 1em; font-size: .9em; max-width: 100%; }
caption { caption-side: top; text-align: left; color: var(--muted); font-size: .9em; }
th, td { padding: .2em .5em; border-bottom: 1px solid var(--rule); text-align: left;
         vertical-align: top; overflow-wrap: break-word; }
th { background: var(--head); color: #fff; font-weight: 600; vertical-align: bottom;
     word-break: keep-all; overflow-wrap: normal; }
th .en { display: block; font-weight: normal; font-size: .85em; opacity: .85; }
th.num { text-align: right; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.nw { white-space: nowrap; }
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
  body { margin: 0; max-width: none; padding: 0; font-size: 9.5pt; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  figure, tr, .charts figure { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  section#methodology { break-before: page; page-break-before: always; }
}
"""

#: The Sensitivity sheet's assumptions in both languages.
_ASSUMPTIONS = {"weights": "权重 weights", "normalisation": "标准化 normalisation",
                "aggregation": "合成 aggregation", "missing": "缺失值 missing values",
                "indicators": "指标 indicators"}


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def _h2(zh: str, en: str) -> str:
    return f'<h2>{_e(zh)} <span class="en">{_e(en)}</span></h2>'


@dataclass(frozen=True)
class ReportPage:
    """A report page: its ``html``, the numbers of ``sections`` and ``charts``, and ``notes``
    for the terminal (advice that does not belong in a published page)."""

    html: str
    sections: int
    charts: int
    notes: tuple[str, ...]


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
            f'<p class="meta">来源 Source: {_e(book.name)} · {ranked} 个{_e(unit_word(s))} '
            f"units ranked · {n_nodes} 个节点 nodes in {levels} 层 levels · 输入 input = "
            f"{_e(s.input)}"
            + (f" · 年份 year {result.year}" if isinstance(result, YearResult) else "")
            + "</p></section>")


def _trends(result: IndexResult) -> str:
    """A panel's Trends table (each unit's index per year, change and rank change first →
    last year: :func:`~xl_aiindex.workbook.panel_sheets.trends_table`); "" for one edition."""
    panel = panel_of(result)
    if panel is None:
        return ""
    table = trends_table(panel)
    first, last = panel.years[0], panel.years[-1]
    shown = result.year if isinstance(result, YearResult) else last
    labels = {str(y): (str(y), "", "score") for y in panel.years} | {
        "change": (f"变化 {first}–{last}", f"Change {first}–{last}", "score"),
        "rank_change": ("排名变化", "Rank change", "int")}
    cols = columns_for(table, result.model, labels)
    return (f'<section id="trends">{_h2("各年趋势", "Trends over the years")}'
            f'<p class="note">{first}–{last} · panel_normalisation = {_e(panel.mode)} · '
            f"排名与图表：{shown} 年 · ranking and charts: {shown}</p>"
            f"{html_tables(table, cols, keys=3)}</section>")


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
    # a unit without names is shown by its id
    shown["name_zh"] = [z if z == z and z else (e if e == e and e else u) for z, e, u in
                        zip(shown["name_zh"], shown["name_en"], shown["unit"], strict=True)]
    shown = shown.drop(columns=["unit"])
    # the published total (given mode) beside the computed one, before the tier and children
    beside = [c for c in ("published", "diff") if c in shown.columns]
    order = [c for c in shown.columns if c not in beside]
    at = order.index("score") + 1
    shown = shown[order[:at] + beside + order[at:]]
    counts = ", ".join(f"{rule.label(t)} {tiers.count(t)}" for t in range(1, rule.count + 1))
    cols = columns_for(shown, result.model)
    return (f'<section id="ranking">{_h2("排名与梯队", "Ranking and tiers")}'
            f'<p class="note">梯队 Tiers ({_e(tier_rule_text(result))}): {_e(counts)}</p>'
            f"{html_tables(shown, cols, keys=2, row_fills=[tier_fill(t) for t in tiers])}"
            "</section>")


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
    heading = _h2(f"{unit_word(result.model.settings)}对比", "Comparisons")
    if not result.model.settings.compare:
        return (f'<section id="compare">{heading}'
                '<p class="note">Settings compare 为空 lists no pairs</p></section>', 0)
    table = compare_table(result)
    figs, tables = [], []
    for _pair, block in table.groupby("pair", sort=False):
        kids = block[block["node"] != result.root]
        names = (str(block["name_a"].iloc[0]), str(block["name_b"].iloc[0]))
        figs.append("<figure>" + svg_pair(
            f"{names[0]} / {names[1]}", [str(x) for x in kids["name_zh"]],
            [float(v) for v in kids["score_a"]], [float(v) for v in kids["score_b"]], names)
            + "</figure>")
        shown = block[["name_zh", "name_en", "score_a", "rank_a", "score_b", "rank_b", "diff"]]
        en = [_english_name(result, str(block[u].iloc[0])) for u in ("unit_a", "unit_b")]
        labels = {"name_zh": ("指标", "Dimension", "text"),
                  "score_a": (f"{names[0]} 得分", f"{en[0]} score", "score"),
                  "rank_a": (f"{names[0]} 排名", f"{en[0]} rank", "int"),
                  "score_b": (f"{names[1]} 得分", f"{en[1]} score", "score"),
                  "rank_b": (f"{names[1]} 排名", f"{en[1]} rank", "int"),
                  "diff": ("差值", f"{en[0]} − {en[1]}", "score")}
        tables.append(html_tables(shown, columns_for(shown, overrides=labels), keys=1))
    return (f'<section id="compare">{heading}<div class="charts">{"".join(figs)}</div>'
            f'{"".join(tables)}</section>', len(figs))


def _english_name(result: IndexResult, unit: str) -> str:
    units = result.model.units
    if unit in units.index:
        name = units.at[unit, "name_en"] if "name_en" in units.columns else ""
        if isinstance(name, str) and name:
            return name
    return unit


def _weights(result: IndexResult) -> str:
    table = result.weights_used.copy()
    names = {n.id: n for n in result.model.nodes}
    shown = pd.DataFrame({
        "parent": [names[p].name_zh or names[p].name_en or p for p in table["node"]],
        "child": table["child"],
        "name_zh": [names[c].name_zh for c in table["child"]],
        "name_en": [names[c].name_en for c in table["child"]],
        "method": table["method"], "weight": table["weight"],
        "weight_in_total": table["weight_in_total"]})
    return (f'<section id="weights">{_h2("权重", "Weights in use")}'
            f"{html_tables(shown, columns_for(shown), keys=2)}</section>")


def _uncertainty(result: IndexResult, sheets: dict[str, pd.DataFrame]
                 ) -> tuple[str, int, list[str]]:
    res, sens = sheets.get("uncertaintyresults"), sheets.get("sensitivity")
    if res is None and sens is None:
        return "", 0, []
    parts = [f'<section id="uncertainty">{_h2("不确定性与敏感性", "Uncertainty and sensitivity")}']
    figs = 0
    notes: list[str] = []
    if res is not None and {"median_rank", "rank_q05", "rank_q95"} <= set(res.columns):
        ok = res.dropna(subset=["median_rank", "rank_q05", "rank_q95"])
        labels = [str(z if z == z and z else u) for z, u in
                  zip(ok.get("name_zh", ok["unit"]), ok["unit"], strict=True)]
        parts.append("<figure>" + svg_intervals(
            "排名区间 Rank intervals (median, 5%–95%)", labels,
            [float(v) for v in ok["median_rank"]], [float(v) for v in ok["rank_q05"]],
            [float(v) for v in ok["rank_q95"]], len(res)) + "</figure>")
        figs += 1
    if res is not None:
        shown = res.copy()
        rule = result.model.settings.tiers
        if "nominal_tier" in shown.columns:
            shown["nominal_tier"] = [
                rule.label(int(t)) if isinstance(t, int | float) and t == t
                and float(t).is_integer() and 1 <= t <= rule.count else t
                for t in shown["nominal_tier"]]
        # the unit's id beside its names, and the interval's two halves beside the interval
        # (the sheet keeps them for its chart's error bars), say nothing more
        shown = shown.drop(columns=[c for c in ("below_median", "above_median") if c in shown])
        if "unit" in shown.columns and "name_zh" in shown.columns:
            shown = shown.drop(columns=["unit"])
        keys = [c for c in ("nominal_rank", "name_zh") if c in shown.columns]
        shown = shown[keys + [c for c in shown.columns if c not in keys]]
        parts.append(html_tables(shown, columns_for(shown, result.model), keys=len(keys) or 1))
    if sens is not None:
        parts.append('<h3>Sobol 敏感性指数 <span class="en">Sobol sensitivity indices</span></h3>')
        table, wide = _sensitivity_table(sens)
        parts.append(_runs_sentence(sens))
        parts.append(html_tables(table, columns_for(table), keys=1))
        if wide:
            notes.append(_("the report shows Sobol' indices whose 95 % interval is wider than "
                           "{width} ({names}): for reliable indices rerun xl-aiindex "
                           "uncertainty with a larger --samples, then the report").format(
                width=f"{CI_WIDTH:g}", names=", ".join(wide)))
    parts.append("</section>")
    return "".join(parts), figs, notes


def _runs_sentence(sens: pd.DataFrame) -> str:
    if not {"samples", "runs"} <= set(sens.columns) or not len(sens):
        return ""
    n, runs = sens["samples"].iloc[0], sens["runs"].iloc[0]
    if n != n or runs != runs:
        return ""
    return (f'<p class="note">样本量 N = {format_value(n, "int")}，共 {format_value(runs, "int")}'
            f" 次运行 runs</p>")


def _sensitivity_table(sens: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The Sensitivity sheet as the page shows it: assumptions named in both languages, each
    index beside its 95 % interval (``low to high``), the interval's width judged here (the
    sheet's advice to raise ``--samples`` goes to the terminal); and the assumptions whose
    interval is too wide."""
    shown = pd.DataFrame({"assumption": [
        _ASSUMPTIONS.get(str(a).strip().lower(), a) for a in sens.get("assumption", [])]})
    wide: list[str] = []
    has = set(sens.columns)
    if "levels" in has:
        shown["levels"] = sens["levels"].to_numpy()
    for col in ("first_order", "total"):
        if col not in has:
            continue
        shown[col] = sens[col].to_numpy()
        if {f"{col}_low", f"{col}_high"} <= has:
            shown[f"{col}_interval"] = [
                f"{format_value(lo, 'r')} to {format_value(hi, 'r')}" if lo == lo and hi == hi
                else "" for lo, hi in zip(sens[f"{col}_low"], sens[f"{col}_high"], strict=True)]
    width = pd.Series(0.0, index=sens.index)
    for col in ("first_order", "total"):
        if {f"{col}_low", f"{col}_high"} <= has:
            width = width.combine(
                (sens[f"{col}_high"].astype(float) - sens[f"{col}_low"].astype(float)).fillna(0),
                max)
    too_wide = width > CI_WIDTH
    shown["note"] = ["区间较宽 interval wider than " + f"{CI_WIDTH:g}" if w else ""
                     for w in too_wide]
    wide = [str(a) for a, w in zip(sens.get("assumption", []), too_wide, strict=False) if w]
    if not too_wide.any():
        shown = shown.drop(columns=["note"])
    return shown, wide


#: The Audit sheet's columns in the groups the page shows them in: per indicator its data
#: statistics; per node its place in the structure.
_AUDIT_STATS = ("n", "missing", "min", "max", "mean", "sd", "skewness", "kurtosis",
                "needs_treatment")
_AUDIT_STRUCTURE = ("parent", "depth", "r_parent", "r_total", "weight", "weight_in_total",
                    "importance")
_AUDIT_GROUPS = ("group_alpha", "group_pc1_share")


def _audit(sheets: dict[str, pd.DataFrame]) -> str:
    audit = sheets.get("audit")
    if audit is None:
        return ""
    keys = [c for c in ("node", "name") if c in audit.columns]
    parts = [f'<section id="audit">{_h2("审计", "Audit")}']
    used = set(keys) | {"indicator"}
    stats = [c for c in _AUDIT_STATS if c in audit.columns]
    if stats and "indicator" in audit.columns:
        rows = audit[[format_value(v, "yesno").startswith("是") for v in audit["indicator"]]]
        parts.append('<h3>指标统计 <span class="en">Indicator statistics</span></h3>')
        table = rows[keys + stats].reset_index(drop=True)
        parts.append(html_tables(table, columns_for(table), keys=len(keys)))
        used |= set(stats)
    structure = [c for c in _AUDIT_STRUCTURE if c in audit.columns]
    if structure:
        parts.append('<h3>结构与相关 <span class="en">Structure and correlations</span></h3>')
        table = audit[keys + structure]
        parts.append(html_tables(table, columns_for(table), keys=len(keys)))
        used |= set(structure)
    groups = [c for c in _AUDIT_GROUPS if c in audit.columns]
    if groups:
        rows = audit[audit[groups].notna().any(axis=1)]
        if len(rows):
            parts.append('<h3>各组内部一致性 <span class="en">Consistency of each group of '
                         "children</span></h3>")
            table = rows[keys + groups]
            parts.append(html_tables(table, columns_for(table), keys=len(keys)))
        used |= set(groups)
    if "flags" in audit.columns:
        flagged = audit[[isinstance(f, str) and bool(f.strip()) for f in audit["flags"]]]
        if len(flagged):
            parts.append('<h3>警示 <span class="en">Warnings</span></h3>')
            table = flagged[keys + ["flags"]]
            parts.append(html_tables(table, columns_for(table), keys=len(keys)))
        used.add("flags")
    rest = [c for c in audit.columns if c not in used]
    if rest:   # an Audit sheet of another layout: every column shown, in groups
        table = audit[keys + rest]
        parts.append(html_tables(table, columns_for(table), keys=max(len(keys), 1)))
    parts.append("</section>")
    return "".join(parts)


def report_page(result: IndexResult, book: str | os.PathLike[str]) -> ReportPage:
    """The page for ``result`` computed from ``book`` (whose UncertaintyResults, Sensitivity,
    Uncertainty and Audit sheets are shown when present)."""
    path = Path(book)
    sheets = read_written_sheets(path, ("UncertaintyResults", "Sensitivity", "Audit",
                                        "Uncertainty"))
    charts, n_charts = _charts(result)
    compare, n_compare = _compare(result)
    uncertainty, n_unc, notes = _uncertainty(result, sheets)
    sections = [_summary(result, path), _ranking(result), _trends(result), charts, compare,
                _weights(result), uncertainty, _audit(sheets), annex_html(result, sheets)]
    body = "".join(s for s in sections if s)
    s = result.model.settings
    title = s.name_zh or s.name_en or result.root
    page = ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>{body}"
            '<p class="note">xl-aiindex report</p></body></html>\n')
    return ReportPage(html=page, sections=sum(1 for s in sections if s),
                      charts=n_charts + n_compare + n_unc, notes=tuple(notes))


def check_report_destination(output: str | os.PathLike[str],
                             book: str | os.PathLike[str]) -> None:
    """Refuse, before anything is computed, an output the report cannot be written to: a name
    other than ``.html``/``.htm``/``.pdf``, the workbook, a read-only or open file, or a
    ``.pdf`` when no PDF printer is installed (:class:`~xl_aiindex.errors.UnsafeWrite`)."""
    from .files import check_destination
    from .report_pdf import require_printer

    target = Path(output)
    check_destination(target, REPORT_SUFFIXES, _kind(target), [Path(book)])
    if target.suffix.lower() == ".pdf":
        require_printer(target)


def write_report(result: IndexResult, book: str | os.PathLike[str],
                 output: str | os.PathLike[str]) -> ReportPage:
    """Write the report of ``result`` to ``output`` atomically
    (:func:`~xl_aiindex.workbook.files.write_file`): the page as UTF-8 HTML, or printed to PDF
    for a ``.pdf`` name (:func:`~xl_aiindex.workbook.report_pdf.print_pdf`). Returns the
    page. Refuses (:class:`~xl_aiindex.errors.UnsafeWrite`, nothing written) what
    :func:`check_report_destination` refuses."""
    from .files import write_file
    from .report_pdf import print_pdf

    target = Path(output)
    check_report_destination(target, book)
    page = report_page(result, book)
    content: bytes | str = print_pdf(page.html, target) if target.suffix.lower() == ".pdf" \
        else page.html
    write_file(target, content, suffixes=REPORT_SUFFIXES, kind=_kind(target), inputs=[Path(book)])
    return page


def _kind(target: Path) -> str:
    """How refusals name what was to be written there."""
    return "PDF report" if target.suffix.lower() == ".pdf" else "HTML report"

