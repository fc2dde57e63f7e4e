"""The statistical audit of a built index: the coherence checks of the OECD-JRC Handbook and
COINr, from an :class:`~xl_aiindex.model.IndexResult`. Pure pandas/numpy: no files.

* Per indicator (the leaves with ``input = data``; the Given columns the computation starts
  from with ``input = given``), on the values outlier treatment sees (after denominators, log
  transforms and imputation): count, missing count (blanks of the Data sheet, imputed ones
  included), min, max, mean, sample standard deviation,
  skewness and excess kurtosis (Excel's SKEW and KURT), and whether the ``skew_kurtosis`` rule
  would treat it under the Settings thresholds (``outlier_skew``, ``outlier_kurtosis``).
* Per node with a score: Pearson correlation (units with both present) with its parent and
  with the total, on the Scores (normalised indicators, aggregated nodes).
* Per sibling group: Cronbach's alpha and the first principal component's share of the
  variance (largest eigenvalue of the correlation matrix over the number of children), on
  the units with every child present; pairs of siblings correlated negatively or above
  :data:`NEAR_DUPLICATE`.
* Effective importance of each indicator: its squared correlation with the total, normalised
  to sum to 1 over the indicators, beside its nominal weight in the total.

Warnings (:attr:`Audit.warnings`) come from the flags: an indicator that needs treatment, a node
correlated negatively with its parent or the total, a negative or near-duplicate sibling pair.

>>> import pandas as pd
>>> round(cronbach_alpha(pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [1.0, 3, 2, 4]})), 6)
0.888889
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .i18n import _
from .model import IndexResult, Settings
from .scale import scale_outliers
from .treat import needs_treatment
from .tree import IndicatorTree

#: Sibling pairs correlated above this are near-duplicates (one measures what the other does).
NEAR_DUPLICATE = 0.92

#: Columns of :attr:`Audit.table` (the Audit sheet), one row per node below the root.
COLUMNS = ("node", "parent", "depth", "name", "indicator", "n", "missing", "min", "max", "mean",
           "sd", "skewness", "kurtosis", "needs_treatment", "r_parent", "r_total", "weight",
           "weight_in_total", "importance", "group_alpha", "group_pc1_share", "flags")

STAT_COLUMNS = ("n", "missing", "min", "max", "mean", "sd", "skewness", "kurtosis",
                "needs_treatment")


@dataclass(frozen=True)
class Audit:
    """What :func:`audit` finds.

    ``table``: one row per node below the root that has a score, parents before children
    (:data:`COLUMNS`; statistics blank for nodes that are not indicators). ``groups``: one
    row per sibling group (``node``, ``children``, ``units``, ``alpha``, ``pc1_share``).
    ``pairs``: the flagged sibling pairs (``node``, ``a``, ``b``, ``r``, ``flag``).
    ``warnings``: one line per flag, in tree order. ``scope``: what was audited, one line.
    """

    table: pd.DataFrame
    groups: pd.DataFrame
    pairs: pd.DataFrame
    warnings: tuple[str, ...]
    scope: str


# ---- the statistics, each a small function ----

def indicator_stats(x: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Per column of ``x`` (NaN = missing): ``n, missing, min, max, mean, sd, skewness,
    kurtosis, needs_treatment`` (sd with n − 1; skewness and excess kurtosis as pandas'
    ``skew``/``kurt`` and Excel's SKEW/KURT), indexed by column."""
    rows = {}
    for col in x.columns:
        v = x[col].dropna().astype(float)
        rows[col] = {"n": int(v.size), "missing": int(x[col].isna().sum()),
                     "min": float(v.min()) if v.size else np.nan,
                     "max": float(v.max()) if v.size else np.nan,
                     "mean": float(v.mean()) if v.size else np.nan,
                     "sd": float(v.std(ddof=1)) if v.size > 1 else np.nan,
                     "skewness": float(v.skew()) if v.size > 2 else np.nan,
                     "kurtosis": float(v.kurt()) if v.size > 3 else np.nan,
                     "needs_treatment": needs_treatment(x[col], settings)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(STAT_COLUMNS))


def cronbach_alpha(scores: pd.DataFrame) -> float:
    """Cronbach's alpha of the columns of ``scores`` (rows with a blank dropped):
    ``k/(k−1) · (1 − Σ var(column) / var(row sums))``; NaN with fewer than 2 columns or rows,
    or when the row sums do not vary."""
    full = scores.dropna().astype(float)
    k = full.shape[1]
    if k < 2 or len(full) < 2:
        return float("nan")
    total_var = float(full.sum(axis=1).var(ddof=1))
    if total_var == 0:
        return float("nan")
    return k / (k - 1) * (1.0 - float(full.var(ddof=1).sum()) / total_var)


def pc1_share(scores: pd.DataFrame) -> float:
    """The share of the total variance of the standardised columns (rows with a blank dropped)
    that the first principal component explains: largest eigenvalue of the correlation matrix
    over the number of columns. NaN with fewer than 2 columns or 3 rows, or a constant column."""
    full = scores.dropna().astype(float)
    k = full.shape[1]
    if k < 2 or len(full) < 3 or (full.std(ddof=1) == 0).any():
        return float("nan")
    corr = np.corrcoef(full.to_numpy(), rowvar=False)
    return float(np.linalg.eigvalsh(corr).max() / k)


def correlation(a: pd.Series, b: pd.Series) -> float:
    """Pearson correlation over the units where both are present (NaN when either is constant
    or fewer than 3 units have both)."""
    both = pd.concat([a, b], axis=1).dropna().astype(float)
    if len(both) < 3 or (both.std(ddof=1) == 0).any():
        return float("nan")
    return float(np.corrcoef(both.iloc[:, 0], both.iloc[:, 1])[0, 1])


def effective_importance(scores: pd.DataFrame, total: pd.Series) -> pd.Series:
    """Squared correlation of each column of ``scores`` with ``total``, normalised to sum to 1."""
    r2 = pd.Series({c: correlation(scores[c], total) ** 2 for c in scores.columns}, dtype=float)
    s = float(r2.sum(skipna=True))
    return r2 / s if s > 0 else r2 * np.nan


def outlier_units(x: pd.Series, skewed: bool = True) -> list[object]:
    """The units of one indicator's values ``x`` that lie far outside the rest: 100 times
    away from the median where the others are not (:func:`~xl_aiindex.scale.scale_outliers`,
    a likely unit error), and — for a ``skewed`` indicator, one outlier treatment would treat
    — beyond Tukey's far fences (Q1 − 3·IQR, Q3 + 3·IQR); farthest first.

    >>> outlier_units(pd.Series([10.0, 12, 11, 13, 9, 400], index=list("abcdef")))
    ['f']
    """
    v = x.dropna().astype(float)
    found = [u for u, _v, _r in scale_outliers(v)]
    if skewed and len(v) >= 4:
        q1, q3 = float(v.quantile(0.25)), float(v.quantile(0.75))
        far = 3 * (q3 - q1)
        if far > 0:
            median = float(v.median())
            beyond = v[(v < q1 - far) | (v > q3 + far)]
            found += [u for u in (beyond - median).abs().sort_values(ascending=False).index
                      if u not in found]
    return found


# ---- the audit ----

def _fmt(v: float) -> str:
    return f"{v:.2f}"


def audit(result: IndexResult, where: Callable[[str, str], str] | None = None) -> Audit:
    """Audit ``result`` (see the module docstring); nodes without a score are left out.
    ``where(unit, indicator)`` gives the cell of a raw value, for the outliers' warnings."""
    model = result.model
    tree = IndicatorTree(model.nodes)
    s = model.settings
    root = tree.root.id
    scores = result.scores
    scored = [n for n in tree.pre_order if n != root and n in result.stages["scores"].columns]
    indicators = [n for n in result.stages["normalised"].columns if n in scored]
    prepared = result.stages["prepared"][indicators]
    stats = indicator_stats(prepared, s)
    # "missing" counts the blanks of the Data (Given) sheet, imputed ones included: after
    # imputation the prepared values have none left to count
    blank = result.stages["raw"].reindex(index=prepared.index, columns=indicators).isna()
    stats["missing"] = (blank | prepared.isna()).sum().astype(int)
    total = result.total
    importance = effective_importance(scores[indicators], total)
    used = result.weights_used
    weight = dict(zip(used["child"], used["weight"], strict=True))
    in_total = dict(zip(used["child"], used["weight_in_total"], strict=True))
    label = {n.id: n.label for n in model.nodes}

    warnings: list[str] = []
    group_rows, pair_rows = [], []
    flags: dict[str, list[str]] = {n: [] for n in scored}
    for n in indicators:
        far = _outliers_said(result, n, where, bool(stats.at[n, "needs_treatment"]))
        if stats.at[n, "needs_treatment"]:
            treated = _("treated") if s.outliers == "skew_kurtosis" else \
                _("not treated: outliers = {method}").format(method=s.outliers)
            far_out = _(", far out: {listing}").format(listing=far) if far else ""
            text = _("skewed: |skewness| {skewness} ≥ {skew_limit} and kurtosis {kurtosis} ≥ "
                     "{kurtosis_limit}{far_out} ({treated})").format(
                         skewness=_fmt(abs(stats.at[n, "skewness"])),
                         skew_limit=f"{s.outlier_skew:g}", kurtosis=_fmt(stats.at[n, "kurtosis"]),
                         kurtosis_limit=f"{s.outlier_kurtosis:g}", far_out=far_out,
                         treated=treated)
            flags[n].append(text)
            warnings.append(_("{node} is {what}").format(node=label[n], what=text))
        elif far:   # not skewed, yet a value 100 times away: a likely unit error
            text = _("a value 100 times away from the rest: {listing}").format(listing=far)
            flags[n].append(text)
            warnings.append(_("{indicator} has {text}").format(indicator=label[n], text=text))
    r_parent = {n: correlation(scores[n], scores[tree.by_id[n].parent or root]) for n in scored}
    r_total = {n: correlation(scores[n], total) for n in scored}
    for n in scored:
        parent = tree.by_id[n].parent or root
        if r_parent[n] < 0:
            flags[n].append(_("negative correlation with its parent {parent} ({r})").format(
                parent=parent, r=_fmt(r_parent[n])))
            warnings.append(_("{node} correlates negatively with its parent {parent}: r = "
                              "{r}").format(node=label[n], parent=parent, r=_fmt(r_parent[n])))
        if parent != root and r_total[n] < 0:
            flags[n].append(_("negative correlation with the total ({r})").format(
                r=_fmt(r_total[n])))
            warnings.append(_("{node} correlates negatively with the total: r = {r}").format(
                node=label[n], r=_fmt(r_total[n])))
    alpha: dict[str, float] = {}
    share: dict[str, float] = {}
    for parent in tree.pre_order:
        kids = [k for k in tree.children[parent] if k in scored]
        if not kids:
            continue
        block = scores[kids]
        alpha[parent], share[parent] = cronbach_alpha(block), pc1_share(block)
        group_rows.append({"node": parent, "children": len(kids),
                           "units": int(block.dropna().shape[0]),
                           "alpha": alpha[parent], "pc1_share": share[parent]})
        for i, a in enumerate(kids):
            for b in kids[i + 1:]:
                r = correlation(scores[a], scores[b])
                kind = "near-duplicate" if r > NEAR_DUPLICATE else "negative" if r < 0 else ""
                if not kind:
                    continue
                pair_rows.append({"node": parent, "a": a, "b": b, "r": r, "flag": kind})
                what = _("near-duplicates (r = {r} > {limit})").format(
                    r=_fmt(r), limit=f"{NEAR_DUPLICATE:g}") if kind == "near-duplicate" else \
                    _("negatively correlated (r = {r})").format(r=_fmt(r))
                warnings.append(_("{a} and {b} (siblings under {parent}) are {what}").format(
                    a=label[a], b=label[b], parent=parent, what=what))
                pair = _("near-duplicate pair with {other} ({r})") if kind == "near-duplicate" \
                    else _("negative pair with {other} ({r})")
                flags[a].append(pair.format(other=b, r=_fmt(r)))
                flags[b].append(pair.format(other=a, r=_fmt(r)))

    rows = []
    for n in scored:
        node = tree.by_id[n]
        parent = node.parent or root
        is_ind = n in indicators
        row = {"node": n, "parent": parent, "depth": tree.depth(n),
               "name": node.name_zh or node.name_en, "indicator": is_ind}
        row.update({c: (stats.at[n, c] if is_ind else None) for c in STAT_COLUMNS})
        row.update({"r_parent": r_parent[n], "r_total": r_total[n],
                    "weight": weight.get(n, np.nan), "weight_in_total": in_total.get(n, np.nan),
                    "importance": float(importance[n]) if is_ind else np.nan,
                    "group_alpha": alpha.get(parent, np.nan),
                    "group_pc1_share": share.get(parent, np.nan),
                    "flags": "; ".join(flags[n])})
        rows.append(row)
    if s.input == "data":
        scope = _("{count} indicators (Data, as prepared for treatment)").format(
            count=len(indicators))
    else:
        scope = _("input = given: the Given scores of {nodes} are audited as the indicators "
                  "(nothing below them has data)").format(nodes=", ".join(indicators))
    return Audit(table=pd.DataFrame(rows, columns=list(COLUMNS)),
                 groups=pd.DataFrame(group_rows, columns=["node", "children", "units", "alpha",
                                                          "pc1_share"]),
                 pairs=pd.DataFrame(pair_rows, columns=["node", "a", "b", "r", "flag"]),
                 warnings=tuple(warnings), scope=scope)


def _outliers_said(result: IndexResult, n: str, where: Callable[[str, str], str] | None,
                   skewed: bool) -> str:
    """Indicator ``n``'s outliers in its raw values (:func:`outlier_units`; far fences only
    when ``skewed``), each as unit, value and cell (``zhejiang (浙江省) 183995 [Data!G12]``,
    ``;``-separated); "" when none (or no Data)."""
    model = result.model
    if model.data is None or n not in model.data.columns:
        return ""
    units = model.units
    said = []
    for u in outlier_units(model.data[n], skewed):
        name = str(units.at[u, "name_zh"] or units.at[u, "name_en"] or "") \
            if u in units.index else ""
        cell = where(str(u), n) if where is not None else ""
        said.append(f"{u}{f' ({name})' if name and name != u else ''} "
                    f"{float(model.data.at[u, n]):g}" + (f" [{cell}]" if cell else ""))
    return "; ".join(said)
