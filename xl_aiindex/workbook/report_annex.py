"""The report's methodology annex: what a reader must know to trust the ranking, computed from
the result and the workbook's sheets.

The tree with every weight; per inner node its aggregation and the weighting with where its
weights come from; per indicator its direction, normalisation (with its parameters), the
preparation (denominator, log) and the Framework's ``unit`` and ``source``; the indicators where
lower is better; every missing value imputed (unit, indicator, method, value used) or skipped;
every indicator treated for outliers; the uncertainty set-up; each method's formula; the tier,
tie and weight rules. The ``*_table`` functions are plain DataFrames (tests check them against
the engine); :func:`annex_html` writes the section.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from ..model import IndexResult, Node
from ..settings import split_method
from ..tree import IndicatorTree
from .report_table import Column, columns_for, html_tables

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
#: Where the weights of each weighting method come from.
_WEIGHT_SOURCES = {
    "given": "Framework 表 weight 列 Framework weights",
    "equal": "等权 equal weights",
    "entropy": "由数据计算（熵权）derived from the children's scores (entropy)",
    "critic": "由数据计算（CRITIC）derived from the children's scores (CRITIC)",
    "sd": "由数据计算（标准差）derived from the children's scores (standard deviation)",
    "pca": "由数据计算（主成分）derived from the children's scores (first principal component)",
    "ahp": "专家两两比较 experts' pairwise comparisons, sheet AHP_{node}",
    "budget": "专家分配 experts' budget allocation, sheet Budget_{node}",
}
_SKIPPED = "跳过，同级权重按比例放大 skipped: its siblings' weights rescaled (missing = reweight)"


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def _h3(zh: str, en: str) -> str:
    return f'<h3>{_e(zh)} <span class="en">{_e(en)}</span></h3>'


def _name(n: Node) -> str:
    return n.name_zh or n.name_en or n.id


def _unit_name(result: IndexResult, unit: str) -> str:
    units = result.model.units
    if unit in units.index:
        row = units.loc[unit]
        return str(row.get("name_zh") or row.get("name_en") or unit)
    return unit


def tier_rule_text(result: IndexResult) -> str:
    """The Settings ``tiers`` rule as written (``rank:10,20``)."""
    rule = result.model.settings.tiers
    return f"{rule.kind}:" + ",".join(f"{b:g}" for b in rule.bounds)


def lower_is_better(result: IndexResult) -> list[Node]:
    """The indicators whose direction is −1 (lower is better), in Framework order; none when
    the index starts from given scores (no indicator is computed)."""
    if result.model.settings.input != "data":
        return []
    tree = IndicatorTree(result.model.nodes)
    return [tree.by_id[leaf] for leaf in tree.leaves if tree.by_id[leaf].direction == -1]


def imputation_text(missing: str) -> str:
    """What the Settings ``missing`` method does to a missing value, in both languages."""
    name, arg = split_method(missing)
    return {
        "mean": "其他单位的均值 mean of the other units",
        "median": "其他单位的中位数 median of the other units",
        "group_mean": f"所在 {arg} 组的均值 mean of the unit's '{arg}' group (overall mean "
                      "when the group has none)",
        "group_median": f"所在 {arg} 组的中位数 median of the unit's '{arg}' group (overall "
                        "median when the group has none)",
        "reweight": _SKIPPED,
    }.get(name, missing)


def missing_values_table(result: IndexResult) -> pd.DataFrame:
    """Every value missing from the starting sheet (Data, or Given's starting nodes) and what
    was done with it: ``unit, name, indicator_id, indicator, handling, value`` (the value used,
    after denominators and log transforms; blank when the value was skipped)."""
    prepared = result.stages["prepared"]
    raw = result.stages["raw"].reindex(index=prepared.index, columns=prepared.columns)
    handling = imputation_text(result.model.settings.missing)
    rows = []
    for col in prepared.columns:
        node = result.model.node(col)
        for unit in prepared.index[raw[col].isna().to_numpy()]:
            value = prepared.at[unit, col]
            rows.append({"unit": str(unit), "name": _unit_name(result, str(unit)),
                         "indicator_id": col, "indicator": _name(node),
                         "handling": handling if value == value else _SKIPPED,
                         "value": float(value)})
    return pd.DataFrame(rows, columns=["unit", "name", "indicator_id", "indicator", "handling",
                                       "value"])


def treated_outliers_table(result: IndexResult) -> pd.DataFrame:
    """The indicators outlier treatment changed: ``indicator_id, indicator, method, treatment``
    and the skewness and kurtosis before and after."""
    t = result.treatment
    if t.empty:
        return pd.DataFrame(columns=["indicator_id", "indicator", "method", "treatment"])
    done = t[~t["treatment"].isin(["none needed", ""])]
    out = pd.DataFrame({"indicator_id": done["indicator"],
                        "indicator": [_name(result.model.node(i)) for i in done["indicator"]],
                        "method": done["method"], "treatment": done["treatment"]})
    for col in ("skew_before", "kurtosis_before", "skew_after", "kurtosis_after"):
        out[col] = done[col].to_numpy()
    return out.reset_index(drop=True)


def nodes_table(result: IndexResult) -> pd.DataFrame:
    """Per inner node with a score (pre-order): ``node, name, children, aggregation,
    weighting, weight_source``."""
    model = result.model
    s = model.settings
    tree = IndicatorTree(model.nodes)
    scored = {c for c in result.scores.columns if result.scores[c].notna().any()}
    given = set(model.given.columns) if s.input == "given" and model.given is not None else set()
    rows = []
    for node_id in tree.pre_order:
        kids = tree.children[node_id]
        if not kids or node_id in given or not all(k in scored for k in kids):
            continue
        n = tree.by_id[node_id]
        weighting = n.weighting or "given"
        rows.append({"node": node_id, "name": _name(n), "children": len(kids),
                     "aggregation": n.aggregation or s.aggregation, "weighting": weighting,
                     "weight_source": _WEIGHT_SOURCES.get(weighting, weighting).format(
                         node=node_id)})
    return pd.DataFrame(rows, columns=["node", "name", "children", "aggregation", "weighting",
                                       "weight_source"])


def indicators_table(result: IndexResult) -> pd.DataFrame:
    """Per indicator (data mode): ``node, name, direction, normalisation`` (with its
    parameters), ``prepare`` (denominator, log), ``unit_of_measure`` and ``source`` (the
    Framework's ``unit`` and ``source``)."""
    model = result.model
    s = model.settings
    if s.input != "data":
        return pd.DataFrame(columns=["node", "name", "direction", "normalisation"])
    tree = IndicatorTree(model.nodes)
    rows = []
    for leaf in tree.leaves:
        n = tree.by_id[leaf]
        method = n.normalisation or s.normalisation
        params = {"minmax": f" {s.minmax_range[0]:g}–{s.minmax_range[1]:g}",
                  "efficacy": f" a = {s.efficacy_a:g}, b = {s.efficacy_b:g}",
                  "goalposts": f" {n.goal_low:g}–{n.goal_high:g} → 0–{s.goalposts_scale:g}"
                  if n.goal_low is not None and n.goal_high is not None else ""}.get(method, "")
        prepare = [f"÷ {n.denominator}" if n.denominator else "",
                   "ln" if n.transform == "log" else ""]
        rows.append({"node": leaf, "name": _name(n),
                     "direction": "逆向 lower is better" if n.direction == -1 else
                                  "正向 higher is better",
                     "normalisation": method + params,
                     "prepare": ", ".join(p for p in prepare if p),
                     "unit_of_measure": n.unit, "source": n.source})
    table = pd.DataFrame(rows)
    # columns nobody filled are left out (a Framework without units or sources)
    keep = [c for c in table.columns
            if c in ("node", "name", "direction", "normalisation") or (table[c] != "").any()]
    return table[keep]


def uncertainty_setup_table(sheets: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The Uncertainty sheet's assumptions (``assumption, how, values``) with what each
    varies in words."""
    sheet = sheets.get("uncertainty")
    if sheet is None or "assumption" not in sheet.columns:
        return pd.DataFrame(columns=["assumption", "how", "values"])
    rows = []
    for rec in sheet.to_dict("records"):
        what = str(rec.get("assumption") or "").strip()
        if not what:
            continue
        how = str(rec.get("how") or "").strip()
        values = rec.get("values")
        rows.append({"assumption": what, "how": how,
                     "values": "" if values is None or values != values else
                     ", ".join(v.strip() for v in str(values).split(";")),
                     "note": _assumption_text(what, how, values)})
    return pd.DataFrame(rows, columns=["assumption", "how", "values", "note"])


def _assumption_text(what: str, how: str, values: Any) -> str:
    how_key = how.lower()
    if what.lower() == "weights" and how_key == "uniform":
        try:
            pct = f"{float(values) * 100:g}"
        except (TypeError, ValueError):
            pct = str(values)
        return (f"每个权重在 ±{pct}% 内均匀抽取，同级重新归一 each weight drawn within ±{pct} %, "
                "rescaled per sibling group")
    if what.lower() == "weights" and how_key == "dirichlet":
        return (f"以现有权重为中心的 Dirichlet 抽样（集中度 {values}）Dirichlet draws around the "
                f"weights (concentration {values})")
    if how_key == "choice":
        choices = ", ".join(v.strip() for v in str(values).split(";"))
        return f"从 {choices} 中选一 one of {choices}"
    if how_key == "leave_one_out":
        return "不剔除或剔除一个指标 leave out no indicator or one"
    return ""


def annex_html(result: IndexResult, sheets: dict[str, pd.DataFrame]) -> str:
    """The ``methodology`` section."""
    model = result.model
    s = model.settings
    parts = ['<section id="methodology"><h2>方法附录 <span class="en">Methodology annex</span>'
             "</h2>", _h3("指标体系", "Indicator tree and weights"), _tree_html(result)]

    parts.append(_h3("合成与权重", "Aggregation and weights per node"))
    nodes = nodes_table(result)
    parts.append(html_tables(nodes, columns_for(nodes), keys=2))
    if s.input == "data":
        parts.append(_h3("指标与标准化", "Indicators and their normalisation"))
        ind = indicators_table(result)
        parts.append(html_tables(ind, columns_for(ind), keys=2))
    else:
        given = [c for c in result.stages["prepared"].columns]
        parts.append(_h3("给定得分", "Given scores"))
        parts.append('<p class="note">计算从 Given 表的给定得分开始（不做标准化）: the computation '
                     "starts from the scores given in the Given sheet (no normalisation): "
                     + _e(", ".join(f"{_name(model.node(g))} ({g})" for g in given)) + "</p>")

    parts.append(_h3("逆向指标", "Indicators where lower is better"))
    lower = lower_is_better(result)
    if lower:
        parts.append('<ul class="plain">' + "".join(
            f"<li>{_e(n.id)} {_e(n.name_zh)} <span class=\"en\">{_e(n.name_en)}</span></li>"
            for n in lower) + "</ul>")
    else:
        parts.append('<p class="note">' + ("无：所有指标越高越好 none: for every indicator "
                                          "higher is better" if s.input == "data" else
                                          "不适用：未使用指标数据 not applicable: no indicator "
                                          "is computed (input = given)") + "</p>")

    parts.append(_h3("缺失值", "Missing values"))
    miss = missing_values_table(result)
    if len(miss):
        parts.append(f'<p class="note">{len(miss)} 个缺失值 missing values; Settings missing = '
                     f"{_e(s.missing)}: {_e(imputation_text(s.missing))}</p>")
        parts.append(html_tables(miss, columns_for(miss, model), keys=2))
    else:
        parts.append('<p class="note">无缺失值 no value is missing</p>')

    parts.append(_h3("异常值处理", "Outlier treatment"))
    treated = treated_outliers_table(result)
    if len(treated):
        parts.append(html_tables(treated, columns_for(treated), keys=2))
    elif s.outliers == "none" or s.input != "data":
        parts.append('<p class="note">未处理异常值 no outlier treatment (outliers = '
                     f"{_e(s.outliers)})</p>")
    else:
        parts.append(f'<p class="note">{_e(s.outliers)}: 无指标需要处理 no indicator needed '
                     "treatment</p>")

    parts.append(_h3("不确定性分析设定", "Uncertainty analysis set-up"))
    parts.append(_uncertainty_html(sheets))

    parts.append(_h3("方法与公式", "Methods used and their formulas"))
    methods = methods_table(result)
    parts.append(html_tables(methods, columns_for(methods), keys=2))
    parts.append(html_tables(*_facts(result)))
    parts.append("</section>")
    return "".join(parts)


def _uncertainty_html(sheets: dict[str, pd.DataFrame]) -> str:
    setup = uncertainty_setup_table(sheets)
    sens = sheets.get("sensitivity")
    if sens is None and sheets.get("uncertaintyresults") is None:
        return ('<p class="note">本工作簿未做不确定性分析 this workbook holds no uncertainty '
                "analysis (no UncertaintyResults or Sensitivity sheet)</p>" +
                (html_tables(setup, columns_for(setup), keys=1) if len(setup) else ""))
    out = ['<p class="note">方差分解（Sobol\'）：每个假设为一个因子；排名区间为各次运行排名的 5%、'
           "中位数与 95% 分位 variance-based (Sobol') analysis, one factor per assumption; rank "
           "intervals are the 5th percentile, median and 95th percentile of the ranks over the "
           "runs"]
    if sens is not None and {"samples", "runs"} <= set(sens.columns) and len(sens):
        n, runs = sens["samples"].iloc[0], sens["runs"].iloc[0]
        if n == n and runs == runs:
            out.append(f"; N = {float(n):,.0f}, {float(runs):,.0f} 次运行 runs")
    out.append("</p>")
    if len(setup):
        out.append(html_tables(setup, columns_for(setup), keys=1))
    return "".join(out)


def methods_table(result: IndexResult) -> pd.DataFrame:
    """Every method in use with its formula and the nodes using it: ``kind, method, formula,
    nodes``."""
    model = result.model
    s = model.settings
    params = {"minmax_range": f"{s.minmax_range[0]:g}–{s.minmax_range[1]:g}",
              "efficacy_a": f"{s.efficacy_a:g}", "efficacy_b": f"{s.efficacy_b:g}",
              "goalposts_scale": f"{s.goalposts_scale:g}"}
    rows: list[tuple[str, str, str, str]] = []
    if s.input == "data":
        tree = IndicatorTree(model.nodes)
        by_method: dict[str, list[str]] = {}
        for leaf in tree.leaves:
            by_method.setdefault(tree.by_id[leaf].normalisation or s.normalisation, []).append(leaf)
        for m in sorted(by_method):
            rows.append(("标准化 normalisation", m,
                         NORMALISATION_FORMULAS.get(m, "").format(**params),
                         ", ".join(by_method[m])))
    nodes = nodes_table(result)
    for kind, col, formulas in (("合成 aggregation", "aggregation", AGGREGATION_FORMULAS),
                                ("权重 weighting", "weighting", WEIGHTING_FORMULAS)):
        for m in sorted(set(nodes[col])):
            rows.append((kind, m, formulas.get(m, ""),
                         ", ".join(nodes.loc[nodes[col] == m, "node"])))
    return pd.DataFrame(rows, columns=["kind", "method", "formula", "nodes"])


def _facts(result: IndexResult) -> tuple[pd.DataFrame, list[Any]]:
    s = result.model.settings
    start = ("由 Data 表原始数据计算 computed from the raw data (Data)" if s.input == "data" else
             "从 Given 表的给定得分开始 starting from the scores given in the Given sheet")
    weights = ("每组权重之和须为 1 the weights of each sibling group must sum to 1"
               if s.weights == "strict" else
               "每组权重按比例缩放至和为 1 the weights of each sibling group are rescaled to "
               "sum to 1")
    facts = pd.DataFrame([
        ("输入 Input", start),
        ("梯队 Tiers", f"{tier_rule_text(result)} → " + "; ".join(
            s.tiers.label(t) for t in range(1, s.tiers.count + 1))),
        ("排名 Ranking", "名次 1 = 最高总分；并列取较好名次 rank 1 = highest total; ties share "
                         "the better rank" + (f"; scores rounded to {s.rank_decimals} decimals"
                                             if s.rank_decimals is not None else "")),
        ("缺失值 Missing values", f"{s.missing}: {imputation_text(s.missing)}"
         if s.missing != "error" else "error: 不允许缺失 no value may be missing"),
        ("异常值 Outliers", s.outliers),
        ("权重规则 Weights", weights),
    ], columns=["kind", "values"])
    return facts, [Column("kind", "项目", "Item"), Column("values", "规则", "Rule")]


def _tree_html(result: IndexResult) -> str:
    model = result.model
    tree = IndicatorTree(model.nodes)
    w = result.weights_used.set_index("child")

    def label(node_id: str) -> str:
        n = tree.by_id[node_id]
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
        kids = tree.children[node_id]
        if kids:
            parts.append('<ul class="tree">')
            stack.append(None)
            stack.extend(reversed(kids))
        else:
            parts.append("</li>")
    parts.append("</ul>")
    return "".join(parts)
