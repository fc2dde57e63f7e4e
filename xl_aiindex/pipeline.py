"""Build an index: check the model, then denominate → impute → treat → normalise → weight →
aggregate → rank → tier. Pure pandas/numpy: no files, no Excel.

>>> import pandas as pd
>>> from xl_aiindex.model import IndexModel, Node, Settings
>>> nodes = (Node("index", None), Node("a", "index", weight=0.5), Node("b", "index", weight=0.5))
>>> units = pd.DataFrame({"name_zh": ["甲", "乙"], "name_en": ["A", "B"]}, index=["u1", "u2"])
>>> data = pd.DataFrame({"a": [1.0, 3.0], "b": [4.0, 2.0]}, index=["u1", "u2"])
>>> result = build_index(IndexModel(nodes, Settings(), units, data))
>>> result.total.tolist(), result.rank.tolist()
([50.0, 50.0], [1.0, 1.0])
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .aggregate import AGGREGATORS, POSITIVE_ONLY, ROOT_ONLY
from .errors import MISSING_VALUE, Problem, ProblemsFound, unknown_method_problem
from .i18n import _
from .impute import IMPUTERS
from .limits import output_size_problems
from .model import IndexModel, IndexResult, Node, Settings, Step
from .normalise import NORMALISERS, MethodInputError, NormParams, ZeroSpread
from .rank import assign_tiers, rank_units
from .settings import split_method
from .treat import TREATMENTS
from .tree import IndicatorTree, build_tree
from .weights import SUM_TOLERANCE, WEIGHTINGS, WeightInputs, ahp_consistency_ratio

#: How many units one problem of the same kind lists before it says "and N more".
_LIST_LIMIT = 10


def _zero_spread_fix() -> str:
    """What to do about an indicator with the same value for every unit."""
    return _(": it tells no units apart, so remove it (from Framework and Data), or give it "
             "goalposts (normalisation goalposts, with goal_low and goal_high in Framework)")


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _show(v: object) -> str:
    """A cell value as people read it: ``0``, ``'abc'``, ``a blank`` (no numpy reprs)."""
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return _("a blank")
    if isinstance(v, bool | np.bool_):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float | np.integer | np.floating):
        return _fmt(float(v))
    return repr(str(v))


def _unit_label(model: IndexModel, unit: str) -> str:
    row = model.units.loc[unit] if unit in model.units.index else None
    name = ""
    if row is not None:
        name = str(row.get("name_zh") or row.get("name_en") or "")
    return f"{unit} ({name})" if name and name != unit else unit


class _Collector:
    """Gathers problems and notes while a build runs."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.notes: list[str] = []

    def add(self, sheet: str, text: str, unit: str = "", node: str = "", field: str = "",
            kind: str = "") -> None:
        self.problems.append(Problem(sheet, unit=unit, node=node, problem=text, field=field,
                                     kind=kind))


def check_model(model: IndexModel) -> tuple[IndicatorTree | None, list[Problem], list[str]]:
    """Every problem of the model that can be seen without computing, and notes.

    Returns the tree (None when its structure is unusable), the problems and the notes.
    """
    c = _Collector()
    tree, tree_problems = build_tree(model.nodes)
    c.problems.extend(tree_problems)
    s = model.settings
    units = model.units

    dupes = units.index[units.index.duplicated()].unique()
    for u in dupes:
        c.add("Units", _("unit id '{unit}' appears more than once in Units").format(unit=u),
              unit=str(u), field="id")
    if len(units) == 0:
        c.add("Units", _("the Units sheet lists no unit"))

    if tree is None:
        return None, c.problems, c.notes

    for n in model.nodes:
        is_leaf = tree.is_leaf(n.id)
        if n.parent is not None and tree.by_id[n.parent].weighting in (None, "given") \
                and n.weight is None:
            c.add("Framework", _("node {node} has no weight (its parent {parent} uses the given "
                                 "weights): enter its weight relative to its siblings").format(
                                     node=n.label, parent=n.parent), node=n.id, field="weight")
        if n.weight is not None and (not np.isfinite(n.weight) or n.weight < 0):
            c.add("Framework", _("node {node} has weight {weight}: weights must be ≥ 0").format(
                node=n.label, weight=_fmt(n.weight)),
                  node=n.id, field="weight")
        if is_leaf:
            _check_leaf(model, n, c)
        else:
            _check_inner(model, tree, n, c)

    if s.input == "data":
        _check_data(model, tree, c)
    else:
        _check_given(model, tree, c)
    name, arg = split_method(s.missing)
    if name.startswith("group_") and arg not in units.columns:
        c.add("Settings", _("setting 'missing': '{value}' names Units column '{column}', which "
                            "Units does not have; Units columns: {columns}").format(
                                value=s.missing, column=arg,
                                columns=", ".join(map(str, units.columns))),
              field="missing")
    _check_names(model, c)
    _check_compare(model, c)
    c.problems.extend(output_size_problems(model, tree))
    return tree, c.problems, c.notes


def _check_names(model: IndexModel, c: _Collector) -> None:
    """A unit's or node's name that is another one's id makes every lookup of it ambiguous
    (``explain``, ``compare``, the UDFs): a problem on the name's cell, naming both."""
    from .lookup import id_collisions, name_entries

    for kind, sheet in (("unit", "Units"), ("node", "Framework")):
        collisions = id_collisions(model, kind)
        names = dict(name_entries(model, kind)) if collisions else {}

        def label(ident: str, names: dict[str, list[str]] = names) -> str:
            name = names[ident][1] or names[ident][2]
            return f"{ident} ({name})" if name and name != ident else ident

        for ident, col, name, other in collisions:
            text = _("{column} '{name}' of unit {unit} is the id of unit {other}: names and ids "
                     "must not collide (a lookup of '{name}' could mean either); rename one") \
                if kind == "unit" else \
                _("{column} '{name}' of node {unit} is the id of node {other}: names and ids "
                  "must not collide (a lookup of '{name}' could mean either); rename one")
            c.add(sheet, text.format(column=col, name=name, unit=label(ident), other=label(other)),
                  unit=ident if kind == "unit" else "",
                  node=ident if kind == "node" else "", field=col)


def _check_compare(model: IndexModel, c: _Collector) -> None:
    """Every name in Settings ``compare`` must name a unit (with "did you mean" otherwise)."""
    if not model.settings.compare or len(model.units) == 0:
        return
    from .errors import UnknownName
    from .lookup import NameIndex

    index = NameIndex.of(model, "unit")
    for pair in model.settings.compare:
        for name in pair:
            try:
                index.find(name)
            except UnknownName as e:
                c.add("Settings", _("setting '{key}': {problem}").format(key="compare", problem=e),
                      field="compare")


def _check_leaf(model: IndexModel, n: Node, c: _Collector) -> None:
    method = n.normalisation or model.settings.normalisation
    if method not in NORMALISERS:
        c.problems.append(unknown_method_problem("normalisation", method, sorted(NORMALISERS),
                                                 "Framework", n.id, "normalisation"))
    if n.direction not in (1, -1):
        written = n.direction if isinstance(n.direction, int) else repr(float(n.direction))
        c.add("Framework", _("indicator {node} has direction {direction}: use 1 or + (higher is "
                             "better), -1 or - (lower is better)").format(
                                 node=n.label, direction=written), node=n.id, field="direction")
    if method == "goalposts" and (n.goal_low is None or n.goal_high is None):
        c.add("Framework", _("indicator {node} uses goalposts but goal_low or goal_high is "
                             "blank").format(node=n.label),
              node=n.id, field="goal_low" if n.goal_low is None else "goal_high")
    elif method == "goalposts" and n.goal_high is not None and n.goal_low is not None \
            and n.goal_high <= n.goal_low:
        c.add("Framework", _("indicator {node}: goal_high ({high}) must be above goal_low "
                             "({low})").format(node=n.label, high=_fmt(n.goal_high),
                                               low=_fmt(n.goal_low)), node=n.id, field="goal_high")
    if n.transform not in (None, "log"):
        c.add("Framework", _("indicator {node} has transform '{transform}'; choose one of: log "
                             "(or leave it blank)").format(node=n.label, transform=n.transform),
              node=n.id, field="transform")
    if n.denominator is not None:
        cols = {str(col).lower(): col for col in model.units.columns}
        if n.denominator.lower() not in cols:
            c.add("Framework", _("indicator {node} is divided by '{denominator}', which is not a "
                                 "Units column; Units columns: {columns}").format(
                                     node=n.label, denominator=n.denominator,
                                     columns=", ".join(map(str, model.units.columns))),
                  node=n.id, field="denominator")


def _check_inner(model: IndexModel, tree: IndicatorTree, n: Node, c: _Collector) -> None:
    method = n.aggregation or model.settings.aggregation
    if method not in AGGREGATORS:
        c.problems.append(unknown_method_problem("aggregation", method, sorted(AGGREGATORS),
                                                 "Framework", n.id, "aggregation"))
    elif method in ROOT_ONLY and n.parent is not None:
        c.add("Framework", _("node {node} uses '{method}' aggregation, which only the root may "
                             "use (its result is not on its children's scale)").format(
                                 node=n.label, method=method), node=n.id, field="aggregation")
    weighting = n.weighting or "given"
    if weighting not in WEIGHTINGS:
        c.problems.append(unknown_method_problem("weighting", weighting, sorted(WEIGHTINGS),
                                                 "Framework", n.id, "weighting"))
    elif weighting == "ahp" and n.id not in model.ahp:
        c.add("Framework", _("node {node} uses {method} weighting but the workbook has no sheet "
                             "'{sheet}'").format(node=n.label, method="ahp", sheet=f"AHP_{n.id}"),
              node=n.id, field="weighting")
    elif weighting == "budget" and n.id not in model.budgets:
        c.add("Framework", _("node {node} uses {method} weighting but the workbook has no sheet "
                             "'{sheet}'").format(node=n.label, method="budget",
                                                 sheet=f"Budget_{n.id}"),
              node=n.id, field="weighting")


def _check_data(model: IndexModel, tree: IndicatorTree, c: _Collector) -> None:
    if model.data is None:
        c.add("Data", _("setting 'input' is 'data' but the workbook has no Data sheet"))
        return
    data = model.data
    for leaf in tree.leaves:
        if leaf not in data.columns:
            c.add("Data", _("indicator {node} has no column in Data (header '{column}' expected in "
                            "row 1)").format(node=tree.by_id[leaf].label, column=leaf),
                  node=leaf, field="id")
    for u in data.index[data.index.duplicated()].unique():
        c.add("Data", _("unit '{unit}' has more than one row in {sheet}").format(
            unit=u, sheet="Data"), unit=str(u), field="unit")
    for u in data.index.difference(model.units.index):
        c.add("Data", _("unit '{unit}' is not in Units (ids there: {ids})").format(
            unit=u, ids=_preview(model.units.index)), unit=str(u), field="unit")
    for u in model.units.index.difference(data.index):
        c.add("Data", _("unit {unit} has no row in {sheet}").format(
            unit=_unit_label(model, str(u)), sheet="Data"), unit=str(u))


def _check_given(model: IndexModel, tree: IndicatorTree, c: _Collector) -> None:
    if model.given is None:
        c.add("Given", _("setting 'input' is 'given' but the workbook has no Given sheet"))
        return
    given_nodes = [col for col in model.given.columns if col in tree.by_id]
    if not given_nodes:
        c.add("Given", _("setting 'input' is 'given' but Given has no column named after a node "
                         "id"))
        return
    for leaf in tree.leaves:
        path = (leaf, *tree.ancestors(leaf))
        if not any(p in given_nodes for p in path):
            top = path[-2] if len(path) > 1 else leaf
            c.add("Given", _("with input = given, every branch needs a given score: node {node} "
                             "has none (add its column to Given, or columns for all of its "
                             "children)").format(node=tree.by_id[top].label), node=top)
            break
    for u in model.given.index[model.given.index.duplicated()].unique():
        c.add("Given", _("unit '{unit}' has more than one row in {sheet}").format(
            unit=u, sheet="Given"), unit=str(u), field="unit")
    for u in model.given.index.difference(model.units.index):
        c.add("Given", _("unit '{unit}' is not in Units (ids there: {ids})").format(
            unit=u, ids=_preview(model.units.index)), unit=str(u), field="unit")
    for u in model.units.index.difference(model.given.index):
        c.add("Given", _("unit {unit} has no row in {sheet}").format(
            unit=_unit_label(model, str(u)), sheet="Given"), unit=str(u))


def _preview(index: pd.Index) -> str:
    items = [str(i) for i in index[:8]]
    return ", ".join(items) + (", …" if len(index) > 8 else "")


def build_index(model: IndexModel, reference: IndexResult | None = None) -> IndexResult:
    """Compute every node's score, the ranking and the tiers of ``model``.

    ``reference``: another build of the same index (a panel's base year, see
    :mod:`xl_aiindex.panel`) whose parameters are applied instead of ``model``'s own: missing
    values are filled with the reference's statistics, outliers treated with its bounds,
    indicators normalised with its min/max, mean/sd or ranks, and nodes weighted with its weights.

    Raises :class:`~xl_aiindex.errors.ProblemsFound` listing every problem (no partial result).
    """
    tree, problems, notes = check_model(model)
    if problems or tree is None:
        raise ProblemsFound(problems)
    c = _Collector()
    c.notes.extend(notes)
    s = model.settings
    log: list[Step] = []
    units = model.units.index

    # STARTING SCORES ----
    if s.input == "data":
        assert model.data is not None
        raw = model.data.reindex(index=units, columns=list(tree.leaves)).astype(float)
        start_sheet = "Data"
        x = _denominate_transform(model, tree, raw, c, log)
    else:
        assert model.given is not None
        given_nodes = [n for n in tree.pre_order if n in model.given.columns]
        # a given node below another given node is shown but not used: the higher one starts
        used = [n for n in given_nodes if not any(a in given_nodes for a in tree.ancestors(n))]
        raw = model.given.reindex(index=units, columns=given_nodes).astype(float)
        x = raw[used]
        start_sheet = "Given"
    coverage = raw.notna().mean(axis=1) if raw.shape[1] else pd.Series(1.0, index=units)

    x = _handle_missing(model, x, start_sheet, c, log, reference)
    if c.problems:
        raise ProblemsFound(c.problems)

    treated, treatment = (_treat(s, x, log, reference) if s.input == "data"
                          else (x, _empty_treatment()))
    normalised = (_normalise(model, tree, treated, c, log, reference) if s.input == "data"
                  else treated)
    if c.problems:
        raise ProblemsFound(c.problems)

    # AGGREGATE ----
    scores: dict[str, pd.Series] = {n: normalised[n] for n in normalised.columns}
    weights_rows: list[dict[str, object]] = []
    reweight = s.missing == "reweight"
    for node_id in tree.inner:
        if node_id in scores:
            continue
        kids = tree.children[node_id]
        if not all(k in scores for k in kids):
            continue  # below a given node: no score
        node = tree.by_id[node_id]
        child_scores = pd.DataFrame({k: scores[k] for k in kids})
        w, method = (_reference_weights(reference, node_id, kids) if reference is not None
                     else _weights(model, tree, node, child_scores, c))
        if w is None:
            continue
        agg_name = node.aggregation or s.aggregation
        if agg_name in POSITIVE_ONLY and not _positive(model, node, child_scores, agg_name, c):
            continue
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            scores[node_id] = AGGREGATORS[agg_name](child_scores, w, reweight)
        _check_finite(model, tree, node, child_scores, scores[node_id], start_sheet, c)
        for k in kids:
            weights_rows.append({"node": node_id, "child": k, "method": method, "weight": float(w[k])})
    if c.problems:
        raise ProblemsFound(c.problems)
    log.append(Step("aggregate", {n.id: n.aggregation or s.aggregation for n in model.nodes
                                  if n.id in tree.inner}))

    root = tree.root.id
    weights_used = _weights_table(tree, weights_rows)
    ordered = [n.id for n in model.nodes if n.id != root] + [root]
    # given nodes below the starting ones are shown as given; the frame built at once (column
    # by column fragments a wide one)
    shown_given = set(raw.columns) if s.input == "given" else set()
    score_table = pd.DataFrame({n: raw[n] if n in shown_given
                                else scores.get(n, pd.Series(np.nan, index=units))
                                for n in ordered}, index=units)

    # RANK AND TIER ----
    total = score_table[root]
    eligible = (coverage >= s.coverage_min) & total.notna()
    low = units[~eligible & total.notna()]
    if len(low):
        c.notes.append(_("{count} unit(s) below coverage_min {minimum} are not ranked: "
                         "{units}").format(count=len(low), minimum=f"{s.coverage_min:g}",
                                           units=", ".join(_unit_label(model, str(u))
                                                           for u in low[:_LIST_LIMIT])))
    rank = rank_units(total, s.rank_decimals, eligible)
    tier = assign_tiers(rank, total, s.tiers, s.rank_decimals)
    log.append(Step("rank", {"rank_decimals": s.rank_decimals, "coverage_min": s.coverage_min}))
    log.append(Step("tier", {"kind": s.tiers.kind, "bounds": s.tiers.bounds}))

    # "prepared": what treatment sees (denominated, transformed, imputed), which audit reads
    stages = {"raw": raw, "prepared": x, "treated": treated, "normalised": normalised,
              "scores": pd.DataFrame({n: scores[n] for n in tree.post_order if n in scores})}
    return IndexResult(model=model, stages=stages, scores=score_table, coverage=coverage,
                       rank=rank, tier=tier, weights_used=weights_used, treatment=treatment,
                       notes=tuple(c.notes), log=tuple(log))


def _denominate_transform(model: IndexModel, tree: IndicatorTree, raw: pd.DataFrame,
                          c: _Collector, log: list[Step]) -> pd.DataFrame:
    x = raw.copy()
    cols = {str(col).lower(): col for col in model.units.columns}
    done: dict[str, str] = {}
    for leaf in tree.leaves:
        n = tree.by_id[leaf]
        if n.denominator is not None:
            col = cols[n.denominator.lower()]
            den = pd.to_numeric(model.units[col], errors="coerce").reindex(x.index)
            bad = x[leaf].notna() & ~(den.notna() & (den != 0))
            for u in x.index[bad]:
                c.add("Units", _("indicator {node} is divided by Units column '{column}', but unit "
                                 "{unit} has {value} there (a non-zero number is needed)").format(
                                     node=n.label, column=col, unit=_unit_label(model, str(u)),
                                     value=_show(model.units.at[u, col])),
                      unit=str(u), field=str(col))
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                x[leaf] = x[leaf] / den
            for u in x.index[np.isinf(x[leaf]) & ~bad]:
                c.add("Data", _("unit {unit}, indicator {node}: {value} divided by its {column} "
                                "{denominator} is too large for a number (overflow): check both "
                                "values").format(unit=_unit_label(model, str(u)), node=n.label,
                                                 value=_fmt(float(raw.at[u, leaf])), column=col,
                                                 denominator=_show(den[u])),
                      unit=str(u), node=leaf, field=leaf)
            done[leaf] = f"/ {col}"
        if n.transform == "log":
            bad = x[leaf].notna() & (x[leaf] <= 0)
            for u in x.index[bad]:
                c.add("Data",
                      _("indicator {node} is log-transformed, but unit {unit} has {value} (after "
                        "denomination); log needs values > 0").format(
                            node=n.label, unit=_unit_label(model, str(u)),
                            value=_fmt(float(x.at[u, leaf]))),
                      unit=str(u), node=leaf, field=leaf)
            x[leaf] = np.log(x[leaf].where(x[leaf] > 0))
            done[leaf] = (done.get(leaf, "") + " then log").strip()
    if done:
        log.append(Step("denominate", done))
    return x


def _handle_missing(model: IndexModel, x: pd.DataFrame, sheet: str, c: _Collector,
                    log: list[Step], reference: IndexResult | None = None) -> pd.DataFrame:
    s = model.settings
    name, arg = split_method(s.missing)
    missing = x.isna()
    if not missing.to_numpy().any():
        return x
    if name == "error":
        data_rows = model.data if sheet == "Data" else model.given
        for col in x.columns:
            for u in x.index[missing[col]]:
                if data_rows is not None and u not in data_rows.index:
                    continue  # reported as "no row" already
                c.add(sheet, _("unit {unit} has no value for {node} ({name}): enter it, or set "
                               "'missing' to reweight or an imputation method (mean, median, "
                               "group_mean:COLUMN…)").format(unit=_unit_label(model, str(u)),
                                                             node=col,
                                                             name=_node_name(model, col)),
                      unit=str(u), node=col, field=col, kind=MISSING_VALUE)
        return x
    if name == "reweight":
        count = int(missing.to_numpy().sum())
        # only the cells the note lists are labelled (a large book has thousands missing)
        listed = itertools.islice(((u, col) for col in x.columns for u in x.index[missing[col]]),
                                  _LIST_LIMIT)
        cells = [f"{_unit_label(model, str(u))} {col}" for u, col in listed]
        more = _(" and {count} more").format(count=count - _LIST_LIMIT) \
            if count > _LIST_LIMIT else ""
        c.notes.append(_("{count} missing value(s) skipped: their siblings' weights were "
                         "rescaled (missing = reweight); {sheet}: {cells}").format(
                             count=count, sheet=sheet, cells=", ".join(cells[:_LIST_LIMIT]) + more))
        log.append(Step("missing", {"method": "reweight", "count": count}))
        return x
    if reference is not None:
        return _fill_from_reference(model, x, reference, name, arg, c, log)
    try:
        filled, fill_notes = IMPUTERS[name](x, model.units, arg)
    except MethodInputError as e:
        c.add("Settings", _("setting '{key}': {problem}").format(key="missing", problem=e),
              field="missing")
        return x
    c.notes.extend(fill_notes)
    log.append(Step("impute", {"method": s.missing}))
    return filled


def _fill_from_reference(model: IndexModel, x: pd.DataFrame, reference: IndexResult, name: str,
                         arg: str, c: _Collector, log: list[Step]) -> pd.DataFrame:
    """Fill ``x``'s gaps with the statistic the imputer ``name`` computes on ``reference``'s
    values: the imputer runs on the reference rows stacked over ``x``'s rows emptied, so its
    statistic sees the reference alone (its filled values equal its own statistic, which
    therefore stays what it was before filling)."""
    ref = reference.stages["prepared"].reindex(columns=x.columns)
    ref_units = reference.model.units
    stacked = pd.concat([ref.set_axis([("ref", u) for u in ref.index]),
                         pd.DataFrame(np.nan, index=[("this", u) for u in x.index],
                                      columns=x.columns)])
    units = pd.concat([ref_units.set_axis([("ref", u) for u in ref_units.index]),
                       model.units.set_axis([("this", u) for u in model.units.index])])
    try:
        filled, _notes = IMPUTERS[name](stacked, units, arg)
    except MethodInputError as e:
        c.add("Settings", _("setting '{key}': {problem}").format(key="missing", problem=e),
              field="missing")
        return x
    fills = filled.loc[[("this", u) for u in x.index]].set_axis(x.index)
    count = int(x.isna().to_numpy().sum())
    c.notes.append(_("{count} missing value(s) set to the {statistic} of the base year's "
                     "values").format(count=count, statistic=name))
    log.append(Step("impute", {"method": model.settings.missing, "parameters": "base year"}))
    return x.fillna(fills)


def _reference_weights(reference: IndexResult, node_id: str, kids: Sequence[str]
                       ) -> tuple[pd.Series, str]:
    """The weights ``reference`` gave the children ``kids`` of ``node_id``."""
    used = reference.weights_used
    rows = used[used["node"] == node_id].set_index("child")["weight"]
    return rows.reindex(kids).astype(float), "base year"


def _node_name(model: IndexModel, node_id: str) -> str:
    try:
        n = model.node(node_id)
    except KeyError:
        return node_id
    return n.name_zh or n.name_en or node_id


def _empty_treatment() -> pd.DataFrame:
    return pd.DataFrame(columns=["indicator", "method", "skew_before", "kurtosis_before",
                                 "skew_after", "kurtosis_after", "treatment"])


def _treat(s: Settings, x: pd.DataFrame, log: list[Step], reference: IndexResult | None = None
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    name, arg = split_method(s.outliers)
    if name == "none":
        return x, _empty_treatment()
    columns: dict[str, pd.Series] = {}
    rows = []
    for col in x.columns:
        if reference is not None:
            treated, what = _treat_like(x[col], reference.stages["prepared"][col],
                                        reference.stages["treated"][col])
        else:
            treated, what = TREATMENTS[name](x[col], s, arg)
        columns[col] = treated
        v0, v1 = x[col].dropna(), treated.dropna()
        rows.append({"indicator": col, "method": s.outliers,
                     "skew_before": float(v0.skew()), "kurtosis_before": float(v0.kurt()),
                     "skew_after": float(v1.skew()), "kurtosis_after": float(v1.kurt()),
                     "treatment": what or _("none needed")})
    log.append(Step("treat", {"method": s.outliers}))
    out = pd.DataFrame(columns, index=x.index, columns=x.columns)  # at once: no fragments
    return out, pd.DataFrame(rows)


def _treat_like(x: pd.Series, ref_before: pd.Series, ref_after: pd.Series) -> tuple[pd.Series, str]:
    """Treat ``x`` as the reference's treatment treated its values: nothing when it changed
    nothing; clamped at the reference's treated range when it winsorised (the values it moved
    are exactly the ones outside that range); else (COINr's ``log_CT``) the same log transform,
    with the reference's min and max."""
    before, after = ref_before.dropna(), ref_after.dropna()
    if before.equals(after):
        return x, ""
    lo, hi = float(after.min()), float(after.max())
    if after.equals(before.clip(lo, hi)):
        out = x.clip(lo, hi)
        return out, _("clamped at the base year's treated range [{low}, {high}]").format(
            low=_fmt(lo), high=_fmt(hi))
    lo, hi = float(before.min()), float(before.max())
    # below the reference's minimum the log's argument would go non-positive: clamp there
    out = np.log(x.clip(lower=lo) - lo + 0.01 * (hi - lo))
    return out, _("log-transformed with the base year's min and max")


def norm_params(s: Settings, n: Node) -> NormParams:
    """The normalisation parameters of indicator ``n`` under settings ``s``."""
    return NormParams(minmax_low=s.minmax_range[0], minmax_high=s.minmax_range[1],
                      efficacy_a=s.efficacy_a, efficacy_b=s.efficacy_b, goal_low=n.goal_low,
                      goal_high=n.goal_high, goalposts_scale=s.goalposts_scale)


def _normalise(model: IndexModel, tree: IndicatorTree, x: pd.DataFrame, c: _Collector,
               log: list[Step], reference: IndexResult | None = None) -> pd.DataFrame:
    s = model.settings
    out = {}
    used = {}
    for leaf in tree.leaves:
        n = tree.by_id[leaf]
        method = n.normalisation or s.normalisation
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                normaliser, params = NORMALISERS[method], norm_params(s, n)
                # without a reference, the three-argument call a registered method may expect
                out[leaf] = (normaliser(x[leaf], int(n.direction), params) if reference is None
                             else normaliser(x[leaf], int(n.direction), params,
                                             ref=reference.stages["treated"][leaf]))
        except MethodInputError as e:
            c.add("Data", _("indicator {node} {problem} under {method} normalisation").format(
                node=n.label, problem=e, method=method)
                  + (_zero_spread_fix() if isinstance(e, ZeroSpread) else ""), node=leaf, field=leaf)
            out[leaf] = pd.Series(np.nan, index=x.index)
        else:
            broken = x[leaf].notna() & ~np.isfinite(out[leaf].astype(float))
            if broken.any():
                biggest = x[leaf].abs().idxmax()
                c.add("Data", _("unit {unit}, indicator {node}: {value} is too large to compute "
                                "with: {method} normalisation of {node} overflows (no finite "
                                "result for {count} unit(s)); check the value").format(
                                    unit=_unit_label(model, str(biggest)), node=n.label,
                                    value=_fmt(float(x.at[biggest, leaf])), method=method,
                                    count=int(broken.sum())),
                      unit=str(biggest), node=leaf, field=leaf)
        used[leaf] = method
    log.append(Step("normalise", used))
    return pd.DataFrame(out, index=x.index)


def _weights(model: IndexModel, tree: IndicatorTree, node: Node, child_scores: pd.DataFrame,
             c: _Collector) -> tuple[pd.Series | None, str]:
    method = node.weighting or "given"
    kids = list(child_scores.columns)
    given = pd.Series({k: tree.by_id[k].weight for k in kids}, dtype=float)
    try:
        w = WEIGHTINGS[method](child_scores, WeightInputs(given=given, ahp=model.ahp.get(node.id),
                                                          budget=model.budgets.get(node.id)))
    except MethodInputError as e:
        sheet = {"ahp": f"AHP_{node.id}", "budget": f"Budget_{node.id}"}.get(method, "Framework")
        c.add(sheet, _("node {node} ({method} weighting) {problem}").format(
            node=node.label, method=method, problem=e), node=node.id, field="weighting")
        return None, method
    if method == "ahp":
        ratio = ahp_consistency_ratio(model.ahp[node.id].reindex(index=kids, columns=kids))
        if ratio > 0.1:
            c.notes.append(_("{sheet}: consistency ratio {ratio} is above Saaty's 0.1: the "
                             "pairwise judgements contradict each other; revisit them").format(
                                 sheet=f"AHP_{node.id}", ratio=f"{ratio:.3f}"))
    if method != "given":
        return w, method
    with np.errstate(over="ignore"):
        total = float(w.sum())
    if not np.isfinite(total):
        big = str(w.abs().idxmax())
        c.add("Framework", _("the weights of the children of {node} are too large to add up "
                             "(node {child} has {weight}): use weights of ordinary size").format(
                                 node=node.label, child=big, weight=_fmt(float(w[big]))),
              node=big, field="weight")
        return None, method
    if total <= 0:
        c.add("Framework", _("the weights of the children of {node} are all 0").format(
            node=node.label), node=kids[0],
              field="weight")
        return None, method
    if abs(total - 1.0) > SUM_TOLERANCE:
        listing = ", ".join(f"{k} {_fmt(float(w[k]))}" for k in kids)
        if model.settings.weights == "strict":
            c.add("Framework", _("the weights of the children of {node} sum to {total}, not 1 "
                                 "({weights}); correct them, or set 'weights' to rescale").format(
                                     node=node.label, total=_fmt(total), weights=listing),
                  node=kids[0], field="weight")
            return None, method
        c.notes.append(_("weights of the children of {node} summed to {total}: rescaled to sum "
                         "to 1 (weights = rescale)").format(node=node.label, total=_fmt(total)))
    return w / total, method


def _positive(model: IndexModel, node: Node, child_scores: pd.DataFrame, method: str,
              c: _Collector) -> bool:
    bad = child_scores.le(0) & child_scores.notna()
    if not bad.to_numpy().any():
        return True
    cases = [(str(u), k) for k in bad.columns for u in bad.index[bad[k]]]
    listing = "; ".join(_("{unit} has {score} for {node}").format(
        unit=_unit_label(model, u), score=_fmt(float(child_scores.at[u, k])), node=k)
        for u, k in cases[:_LIST_LIMIT])
    more = _(" and {count} more").format(count=len(cases) - _LIST_LIMIT) \
        if len(cases) > _LIST_LIMIT else ""
    c.add("Framework", _("node {node} uses {method} aggregation, which needs scores > 0, but "
                         "{cases}; use arithmetic aggregation, or a normalisation whose range is "
                         "above 0 (e.g. minmax_range 1,100 or efficacy)").format(
                             node=node.label, method=method, cases=listing + more), node=node.id,
          field="aggregation")
    return False


def _check_finite(model: IndexModel, tree: IndicatorTree, node: Node, child_scores: pd.DataFrame,
                  result: pd.Series, sheet: str, c: _Collector) -> None:
    """A problem for each unit whose aggregate is not finite while its children's scores are
    (an overflow), naming the unit's largest input value under the node."""
    fine = np.isfinite(child_scores.astype(float)).all(axis=1)
    broken = fine & ~np.isfinite(result.astype(float))
    for u in result.index[broken][:_LIST_LIMIT]:
        kid = str(child_scores.loc[u].abs().idxmax())
        c.add(sheet if kid not in tree.inner or sheet == "Given" else "Framework",
              _("unit {unit}: the score of node {node} is not a finite number (overflow): "
                "{child} is {value}, too large to compute with; check the values").format(
                    unit=_unit_label(model, str(u)), node=node.label, child=kid,
                    value=_fmt(float(child_scores.at[u, kid]))), unit=str(u), node=kid, field=kid)


def _weights_table(tree: IndicatorTree, rows: list[dict[str, object]]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["node", "child", "method", "weight"])
    in_total: dict[str, float] = {tree.root.id: 1.0}
    by_child = {str(r["child"]): (str(r["node"]), float(r["weight"])) for r in rows}  # type: ignore[arg-type]

    # the product of the weights along the path from the root, parents before children (the
    # tree's pre-order, not recursion: any depth works)
    for node_id in tree.pre_order:
        if node_id in by_child and node_id not in in_total:
            parent, w = by_child[node_id]
            in_total[node_id] = in_total[parent] * w
    values = [in_total[str(r["child"])] for r in rows]
    table["weight_in_total"] = values
    # parents before children reads best: order by the tree's pre-order of the parent node
    order = {n: i for i, n in enumerate(tree.pre_order)}
    table["_o"] = table["node"].map(order)
    table["_c"] = table["child"].map(order)
    return table.sort_values(["_o", "_c"]).drop(columns=["_o", "_c"]).reset_index(drop=True)

