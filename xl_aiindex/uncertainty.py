"""Uncertainty and sensitivity analysis: how much do the ranks depend on the analyst's choices?

The ``Uncertainty`` sheet lists assumptions (``assumption``, ``how``, ``values``):

============================  ==================================================================
``weights / uniform / p``     every given weight varies within ±p (e.g. 0.25 = ±25 %), rescaled
                              per sibling group
``weights / dirichlet / c``   each sibling group's weights drawn from Dirichlet(c · w) (mean w;
                              higher c = less variation)
``normalisation / choice``    one of the listed methods (``minmax;zscore``) as the default
``aggregation / choice``      one of the listed methods as the default
``missing / choice``          one of the listed missing-value methods
``indicators / leave_one_out`` no indicator, or one of them, left out
============================  ==================================================================

Design
------
**One factor per row.** Each assumption is one factor taking finitely many equally likely
values (levels): a choice has one level per method, ``leave_one_out`` one per indicator plus
"none", and the weights one per vector of a pre-drawn stream of noisy weight vectors
(``weight_draws`` of them, drawn once from the seed, as COINr samples from a pre-drawn set).
A factor's uniform value ``u`` picks level ``floor(u · levels)``. Few factors keep the design
small and every factor switched in every block of runs (with one factor per weight, 120
dimensions at N = 64, a 2-level choice can go unswitched and get index 0). The rows of A and B
are independent uniform draws (Monte Carlo): a stream of weight vectors has no order in ``u``
for a quasi-random sequence to exploit, and independent rows make the bootstrap intervals valid.

**Estimators.** Saltelli's matrices A, B and AB_i (A with column i from B): N·(k + 2) runs.
First order: Janon et al. (2014) on the pairs (f_B, f_ABi), which share only factor i —
``(mean(f_B·f_ABi) − m²) / (mean((f_B² + f_ABi²)/2) − m²)``, m the mean of both; it stays
precise for a dominant factor, where Saltelli's (2010) estimator needs many times the runs;
total: Jansen ``mean((f_A − f_ABi)²) / 2V``, V the variance of f_A and f_B together; 95 %
confidence intervals by bootstrap over the N rows. The output studied is the mean absolute rank shift of the units
against the nominal ranking (as COINr's sensitivity analysis does); the rank distribution of
every unit over all runs is the uncertainty analysis. With every factor discrete, the indices
have an exact value — a full enumeration of the levels, :func:`exact_indices` — that the tests
compare against.

**Run size.** ``samples`` (N) is where the run starts: while a confidence interval is wider
than 0.1 or the first-order indices sum above 1 by more than their error, N doubles (the random stream continues, so earlier runs are kept) as long as the time
``budget`` allows; if it does not, a note names the N to use.

**Vectorised runs.** Each normalisation / aggregation / missing choice is computed once with
:func:`~xl_aiindex.pipeline.build_index` (so treatment, imputation and normalisation are the
engine's own); then a chunk of draws is aggregated with numpy: a draw's weights are a row of an
array, a left-out indicator a zero in an activity mask, missing values (``reweight``) a
presence mask, each level of the tree a matrix product (children with fixed scores) or a
weighted sum of arrays; ranks come from ``argsort`` per row with the engine's tie rule (ties
share the better rank). What has no vectorised form (data-driven or AHP/budget weighting,
Copeland aggregation, ``rank_decimals``, leaving indicators out under ``input = given``) runs
:func:`build_index` per run instead, and a note says so. Both paths give the same ranks for the
same draws (tested).

Formula form: none; results are written as values (``UncertaintyResults``, ``Sensitivity``).
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import product
from typing import Any

import numpy as np
import pandas as pd

from .aggregate import AGGREGATORS
from .errors import BadArgument, Problem, ProblemsFound
from .i18n import _, ngettext
from .impute import MISSING_METHODS
from .memory import gib, memory_budget
from .model import IndexModel, TierRule
from .normalise import NORMALISERS
from .pipeline import build_index
from .sensitivity import (  # noqa: F401  (re-exported: they lived here)
    BOOTSTRAP,
    _saltelli_order,
    _saltelli_order_rows,
    exact_indices,
    saltelli_design,
    sobol_indices,
)
from .settings import split_method
from .text import ascii_punctuation, share, split_list
from .tree import IndicatorTree, build_tree

#: Every (assumption, how) pair the Uncertainty sheet may use.
ASSUMPTIONS: dict[str, tuple[str, ...]] = {
    "weights": ("uniform", "dirichlet"),
    "normalisation": ("choice",),
    "aggregation": ("choice",),
    "missing": ("choice",),
    "indicators": ("leave_one_out",),
}

_CHOICES = {"normalisation": tuple(sorted(NORMALISERS)),
            "aggregation": tuple(sorted(a for a in AGGREGATORS if a != "copeland")),
            "missing": MISSING_METHODS}

#: The levels of one run, one per factor.
Levels = Sequence[int] | np.ndarray

#: Base sample size N a run starts from (runs: N · (factors + 2)).
DEFAULT_SAMPLES = 512
#: Seconds the automatic increase of N may take in all.
DEFAULT_BUDGET = 10.0
#: How many noisy weight vectors the weights factor chooses from.
DEFAULT_WEIGHT_DRAWS = 1000
#: A confidence interval wider than this asks for more runs.
CI_WIDTH = 0.1
#: The largest N the automatic increase goes to.
MAX_SAMPLES = 2**16
#: Bytes a run holds per run and unit at its peak: the totals, ranks and tiers of every run
#: (8 + 8 + 2), their copies when distinct runs are expanded to all, the rank shifts and the
#: quantiles' work arrays (measured: 46).
BYTES_PER_RUN_UNIT = 48
#: Float arrays of ``BOOTSTRAP + 1`` × N the bootstrap of the indices holds at once, per factor
#: and in all (measured: 5.6 + 2.6 per factor).
BOOTSTRAP_ARRAYS = (6, 3)
#: The arrays of one vectorised chunk (2**25 values of 8 bytes, see :func:`run_vectorised`).
CHUNK_BYTES = 2**25 * 8


@dataclass(frozen=True)
class Assumption:
    """One row of the Uncertainty sheet, checked."""

    name: str
    how: str
    choices: tuple[str, ...] = ()
    amount: float = 0.0


def parse_assumptions(rows: Sequence[tuple[Any, Any, Any]]) -> tuple[list[Assumption], list[Problem]]:
    """``(assumption, how, values)`` rows → checked :class:`Assumption` list and problems.

    Problems name the assumption in ``field`` (the workbook layer finds its row).

    >>> a, p = parse_assumptions([("weights", "uniform", 0.25), ("normalisation", "choice", "minmax;zscore")])
    >>> [(x.name, x.how, x.choices, x.amount) for x in a], p
    ([('weights', 'uniform', (), 0.25), ('normalisation', 'choice', ('minmax', 'zscore'), 0.0)], [])
    """
    out: list[Assumption] = []
    problems: list[Problem] = []
    seen: set[str] = set()

    def bad(name: str, text: str) -> None:
        problems.append(Problem("Uncertainty", field=name, problem=text))

    for raw_name, raw_how, raw_values in rows:
        name = str(raw_name or "").strip().lower()
        how = str(raw_how or "").strip().lower()
        if not name:
            continue
        if name not in ASSUMPTIONS:
            bad(name, _("unknown assumption '{name}'; choose one of: {choices}").format(
                name=raw_name, choices=", ".join(ASSUMPTIONS)))
            continue
        if how not in ASSUMPTIONS[name]:
            bad(name, _("assumption '{name}': unknown way '{how}'; choose one of: "
                        "{choices}").format(name=name, how=raw_how,
                                            choices=", ".join(ASSUMPTIONS[name])))
            continue
        if name in seen:
            bad(name, _("assumption '{name}' is listed twice").format(name=name))
            continue
        seen.add(name)
        if how in ("uniform", "dirichlet"):
            try:
                amount = share(raw_values)
            except (TypeError, ValueError):
                amount = float("nan")
            ok = 0 < amount < 1 if how == "uniform" else amount > 0
            if not ok:
                bad(name, (_("weights / {how} needs a share between 0 and 1 (0.25 = each "
                             "weight ±25%), not {value}") if how == "uniform" else
                           _("weights / {how} needs a positive concentration (e.g. 50), not "
                             "{value}")).format(how=how, value=repr(raw_values)))
                continue
            out.append(Assumption(name, how, amount=amount))
        elif how == "choice":
            choices = tuple(c.lower() for c in split_list(ascii_punctuation(str(raw_values or "")),
                                                          commas=True))
            valid = _CHOICES[name]
            unknown = [c for c in choices if split_method(c)[0] not in valid]
            if len(choices) < 2 or len(set(choices)) < len(choices) or unknown:
                bad(name, (_("{name} / choice needs two or more different methods of: "
                             "{methods}, separated by ';' (unknown: {unknown})") if unknown else
                           _("{name} / choice needs two or more different methods of: "
                             "{methods}, separated by ';'")).format(
                               name=name, methods=", ".join(valid),
                               unknown=", ".join(unknown)))
                continue
            out.append(Assumption(name, how, choices=choices))
        else:
            out.append(Assumption(name, how))
    return out, problems


# ---- THE FACTORS AND WHAT A LEVEL MEANS ----

@dataclass(frozen=True)
class Plan:
    """The factors of a run and what each of their levels does to the model.

    ``factors``: the assumptions, one factor each, in sheet order. ``levels``: how many values
    each factor takes. ``weight_ids``: nodes whose weight the weights factor varies (children of
    nodes weighted by their ``weight`` cells); ``weight_stream``: one row of raw weights per
    level of the weights factor (one row, the given weights, when weights do not vary).
    ``leaves``: indicators, in the order ``leave_one_out`` levels 1… drop them.
    """

    model: IndexModel
    tree: IndicatorTree
    factors: tuple[Assumption, ...]
    levels: tuple[int, ...]
    weight_ids: tuple[str, ...]
    weight_stream: np.ndarray
    leaves: tuple[str, ...]

    def describe(self, levels: Levels) -> str:
        """What a run with these levels does, for messages."""
        parts = []
        for a, lv in zip(self.factors, levels, strict=True):
            if a.how == "choice":
                parts.append(f"{a.name} = {a.choices[lv]}")
            elif a.name == "indicators" and lv:
                parts.append(_("indicator {node} left out").format(node=self.leaves[lv - 1]))
        return ", ".join(parts) or _("varied weights")


def make_plan(model: IndexModel, assumptions: Sequence[Assumption],
              weight_draws: int = DEFAULT_WEIGHT_DRAWS, seed: int = 1) -> Plan:
    """The :class:`Plan` of ``assumptions`` on ``model``; the weight stream is drawn from ``seed``.

    Raises :class:`ProblemsFound` when the model itself has problems.
    """
    tree, problems = build_tree(model.nodes)
    if tree is None:
        raise ProblemsFound(problems)
    weight_ids = tuple(n for n in tree.pre_order if n != tree.root.id
                       and (tree.by_id[str(tree.by_id[n].parent)].weighting or "given") == "given")
    given = np.array([float(tree.by_id[n].weight or 0.0) for n in weight_ids])
    stream = given[None, :]
    levels = []
    rng = np.random.default_rng([seed, 20201])
    for a in assumptions:
        if a.name == "weights":
            if a.how == "uniform":
                stream = given * (1 + a.amount * (2 * rng.random((weight_draws, len(given))) - 1))
            else:  # independent gammas rescaled per group are Dirichlet(c·w)
                shape = np.where(given > 0, a.amount * given, 1.0)
                stream = np.where(given > 0, rng.gamma(shape, size=(weight_draws, len(given))), 0.0)
            levels.append(weight_draws)
        elif a.how == "choice":
            levels.append(len(a.choices))
        else:
            levels.append(len(tree.leaves) + 1)
    return Plan(model, tree, tuple(assumptions), tuple(levels), weight_ids, stream, tree.leaves)


def _settings_changes(plan: Plan, levels: Levels) -> dict[str, Any]:
    return {a.name: a.choices[lv] for a, lv in zip(plan.factors, levels, strict=True)
            if a.how == "choice"}


def _weight_row(plan: Plan, levels: Levels) -> int:
    return next((int(lv) for a, lv in zip(plan.factors, levels, strict=True) if a.name == "weights"), 0)


def _dropped(plan: Plan, levels: Levels) -> str | None:
    lv = next((int(lv) for a, lv in zip(plan.factors, levels, strict=True)
               if a.name == "indicators"), 0)
    return plan.leaves[lv - 1] if lv else None


def variant_model(plan: Plan, levels: Levels) -> IndexModel:
    """The model one run computes: the levels' weights, methods and left-out indicator
    (weights are rescaled per sibling group, whatever the ``weights`` setting)."""
    model = plan.model
    weights = dict(zip(plan.weight_ids, plan.weight_stream[_weight_row(plan, levels)], strict=True))
    nodes = [replace(n, weight=float(weights[n.id])) if n.id in weights else n for n in model.nodes]
    data = model.data
    dropped = _dropped(plan, levels)
    if dropped:
        removed = {dropped}
        parent_of = {n.id: n.parent for n in nodes}
        kids = Counter(n.parent for n in nodes if n.parent is not None)
        # a parent left without children goes too, up the tree (one step per level: any depth)
        parent = parent_of[dropped]
        while parent is not None:
            kids[parent] -= 1
            if kids[parent] > 0:
                break
            removed.add(parent)
            parent = parent_of[parent]
        nodes = [n for n in nodes if n.id not in removed]
        if data is not None:
            data = data.drop(columns=[c for c in removed if c in data.columns])
    settings = replace(model.settings, weights="rescale", **_settings_changes(plan, levels))
    return replace(model, nodes=tuple(nodes), settings=settings, data=data)


# ---- RUNS: ONE BUILD PER RUN (THE REFERENCE), OR VECTORISED ----

@dataclass(frozen=True)
class Runs:
    """Per run (row) and unit (column): the root's score, the rank (NaN: not ranked), the tier."""

    totals: np.ndarray
    ranks: np.ndarray
    tiers: np.ndarray


def rank_rows(totals: np.ndarray) -> np.ndarray:
    """Rank every row of ``totals`` (runs × units): 1 = highest; ties share the better rank, as
    :func:`xl_aiindex.rank.rank_units`; NaN totals get no rank.

    >>> rank_rows(np.array([[5.0, 7.0, 5.0, 1.0], [np.nan, 1.0, 2.0, 2.0]])).tolist()
    [[2.0, 1.0, 2.0, 4.0], [nan, 3.0, 1.0, 1.0]]
    """
    missing = np.isnan(totals)
    key = np.where(missing, np.inf, -totals)
    order = np.argsort(key, axis=1, kind="stable")
    ordered = np.take_along_axis(key, order, axis=1)
    pos = np.broadcast_to(np.arange(totals.shape[1]), totals.shape)
    new = np.ones(totals.shape, dtype=bool)
    new[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    first = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
    ranks = np.empty(totals.shape)
    np.put_along_axis(ranks, order, first + 1.0, axis=1)
    ranks[missing] = np.nan
    return ranks


def tier_rows(ranks: np.ndarray, totals: np.ndarray, rule: TierRule) -> np.ndarray:
    """Tiers (1 = best, 0 = not ranked) of every run, as :func:`xl_aiindex.rank.assign_tiers`."""
    ranked = ~np.isnan(ranks)
    if rule.kind == "rank":
        values = np.searchsorted(np.asarray(rule.bounds, dtype=float), np.nan_to_num(ranks),
                                 side="left")
    else:
        ascending = np.asarray(sorted(rule.bounds), dtype=float)
        values = len(ascending) - np.searchsorted(ascending, np.nan_to_num(totals), side="right")
    return np.where(ranked, values + 1, 0).astype(np.int16)


def run_loop(plan: Plan, levels: np.ndarray,
             progress: Callable[[int, int], None] | None = None) -> Runs:
    """``build_index`` once per row of ``levels`` (runs × factors): the reference path."""
    units = plan.model.units.index
    totals = np.empty((len(levels), len(units)))
    ranks = np.empty_like(totals)
    tiers = np.empty(totals.shape, dtype=np.int16)
    for i, row in enumerate(levels):
        try:
            r = build_index(variant_model(plan, row))
        except ProblemsFound as e:
            raise ProblemsFound([Problem("Uncertainty", problem=_(
                "a run with {run} cannot be computed: {problem}").format(
                    run=plan.describe(row), problem=e.problems[0].problem))]) from None
        totals[i] = r.total.reindex(units).to_numpy(dtype=float)
        ranks[i] = r.rank.reindex(units).to_numpy(dtype=float)
        tiers[i] = r.tier.reindex(units).to_numpy()
        if progress is not None:
            progress(i + 1, len(levels))
    return Runs(totals, ranks, tiers)


def vector_obstacles(plan: Plan) -> list[str]:
    """Why the runs of ``plan`` cannot be vectorised (empty: they can)."""
    model, tree = plan.model, plan.tree
    why = []
    odd = [n for n in tree.inner if (tree.by_id[n].weighting or "given") not in ("given", "equal")]
    if odd:
        why.append(_("node {node} uses {method} weighting (weights computed from the "
                     "data)").format(node=odd[0], method=tree.by_id[odd[0]].weighting))
    methods = {tree.by_id[n].aggregation or model.settings.aggregation for n in tree.inner}
    for a in plan.factors:
        if a.name == "aggregation":
            methods |= set(a.choices)
    if "copeland" in methods:
        why.append(_("copeland aggregation"))
    if model.settings.rank_decimals is not None:
        why.append(_("rank_decimals (Excel's ROUND)"))
    if model.settings.input == "given" and any(a.name == "indicators" for a in plan.factors):
        why.append(_("leaving indicators out with input = given"))
    return why


class _Scenario:
    """One combination of the choices: the scores the aggregation starts from, per unit."""

    def __init__(self, plan: Plan, levels: Levels):
        model = replace(plan.model, settings=replace(plan.model.settings, weights="rescale",
                                                     **_settings_changes(plan, levels)))
        try:
            r = build_index(model)
        except ProblemsFound as e:
            raise ProblemsFound([Problem("Uncertainty", problem=_(
                "the combination {run} cannot be computed: {problem}").format(
                    run=plan.describe(levels), problem=e.problems[0].problem))]) from None
        units = plan.model.units.index
        start = r.stages["normalised"].reindex(units)
        self.start = {c: start[c].to_numpy(dtype=float) for c in start.columns}
        self.settings = model.settings
        present = r.stages["raw"].reindex(units).notna()
        # coverage when leaf j is left out (row 0: none left out), as the pipeline counts it
        counts = present.sum(axis=1).to_numpy(dtype=float)
        n = present.shape[1]
        cov = [counts / n if n else np.ones(len(units))]
        for leaf in plan.leaves:
            left = present[leaf].to_numpy(dtype=float) if leaf in present.columns else 0.0
            cov.append((counts - left) / (n - 1) if n > 1 else np.ones(len(units)))
        self.coverage = np.array(cov)


def run_vectorised(plan: Plan, levels: np.ndarray,
                   progress: Callable[[int, int], None] | None = None,
                   chunk: int | None = None) -> Runs:
    """The runs of ``levels`` (runs × factors) without a Python loop over runs or units.

    Rows sharing a combination of choices are aggregated together, ``chunk`` rows at a time
    (default: sized to keep each chunk's arrays near 256 MB).
    """
    tree = plan.tree
    units = plan.model.units.index
    n_units = len(units)
    index = {n: i for i, n in enumerate(tree.pre_order)}
    column = {n: i for i, n in enumerate(plan.weight_ids)}
    choice_cols = [i for i, a in enumerate(plan.factors) if a.how == "choice"]
    weight_col = next((i for i, a in enumerate(plan.factors) if a.name == "weights"), None)
    drop_col = next((i for i, a in enumerate(plan.factors) if a.name == "indicators"), None)
    if chunk is None:
        chunk = int(np.clip(2**25 // max(1, n_units * (len(tree.inner) + 8)), 16, 4096))
    totals = np.empty((len(levels), n_units))
    ranks = np.empty_like(totals)
    tiers = np.empty(totals.shape, dtype=np.int16)
    keys = levels[:, choice_cols] if choice_cols else np.zeros((len(levels), 1), dtype=int)
    combos, which = np.unique(keys, axis=0, return_inverse=True)
    which = which.reshape(-1)
    done = 0
    for c, combo in enumerate(combos):
        full = np.zeros(len(plan.factors), dtype=int)
        full[choice_cols] = combo[: len(choice_cols)]
        scen = _Scenario(plan, full)
        rows = np.flatnonzero(which == c)
        for lo in range(0, len(rows), chunk):
            sel = rows[lo:lo + chunk]
            w_rows = levels[sel, weight_col] if weight_col is not None else np.zeros(len(sel), int)
            drops = levels[sel, drop_col] if drop_col is not None else np.zeros(len(sel), int)
            total = _aggregate(plan, scen, index, column, plan.weight_stream[w_rows], drops)
            eligible = scen.coverage[drops] >= scen.settings.coverage_min
            total_ranked = np.where(eligible, total, np.nan)
            r = rank_rows(total_ranked)
            totals[sel], ranks[sel] = total, r
            tiers[sel] = tier_rows(r, total, scen.settings.tiers)
            done += len(sel)
            if progress is not None:
                progress(done, len(levels))
    return Runs(totals, ranks, tiers)


#: What a weighted mean averages: the scores (arithmetic), their logs, their reciprocals.
_TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "arithmetic": lambda x: x, "geometric": np.log, "harmonic": np.reciprocal}


def _aggregate(plan: Plan, scen: _Scenario, index: dict[str, int], column: dict[str, int],
               stream: np.ndarray, drops: np.ndarray) -> np.ndarray:
    """Root scores (runs × units) of a chunk: each inner node is a weighted mean of its children,
    with weights per run (rows of ``stream``) and the pipeline's rules for missing children."""
    tree, s = plan.tree, scen.settings
    runs = len(drops)
    active = np.ones((runs, len(index)), dtype=bool)
    leaf_at = np.array([index[leaf] for leaf in plan.leaves] or [0])
    dropped = drops > 0
    active[np.flatnonzero(dropped), leaf_at[drops[dropped] - 1]] = False
    reweight = s.missing == "reweight"
    scores: dict[str, np.ndarray] = {k: v[None, :] for k, v in scen.start.items()}
    for node_id in tree.inner:
        kids = tree.children[node_id]
        if node_id in scores or not all(k in scores for k in kids):
            continue  # a starting (given) node, or a node below one
        node = tree.by_id[node_id]
        kid_at = [index[k] for k in kids]
        act = active[:, kid_at]
        active[:, index[node_id]] = act.any(axis=1)
        if (node.weighting or "given") == "given":
            raw = stream[:, [column[k] for k in kids]]
        else:  # equal
            raw = np.ones((runs, len(kids)))
        w = np.where(act, raw, 0.0)
        method = node.aggregation or s.aggregation
        f: Callable[[np.ndarray], np.ndarray] = _TRANSFORMS[method]
        with np.errstate(divide="ignore", invalid="ignore"):
            if all(scores[k].shape[0] == 1 for k in kids):
                x = np.concatenate([scores[k] for k in kids], axis=0)  # kids × units
                present = ~np.isnan(x)
                fx = np.where(present, f(np.where(present, x, 1.0)), 0.0)
                num = w @ fx
                if reweight:
                    den = w @ present
                    missing = den <= 0
                else:
                    den = w.sum(axis=1, keepdims=True)
                    missing = (act.astype(float) @ ~present) > 0
            else:
                num = np.zeros((runs, scores[kids[0]].shape[1]))
                den = np.zeros_like(num) if reweight else w.sum(axis=1, keepdims=True)
                missing = np.zeros(num.shape, dtype=bool)
                for j, k in enumerate(kids):
                    x = scores[k]
                    present = ~np.isnan(x)
                    wk = w[:, j:j + 1]
                    num += np.where(present, wk * f(np.where(present, x, 1.0)), 0.0)
                    if reweight:
                        den += np.where(present, wk, 0.0)
                    else:
                        missing |= ~present & act[:, j:j + 1]
                if reweight:
                    missing = den <= 0
            mean = num / den
            out = mean if method == "arithmetic" else np.exp(mean) if method == "geometric" \
                else 1.0 / mean
        scores[node_id] = np.where(missing, np.nan, out)
        for k in kids:  # free the children's arrays
            if scores[k].shape[0] > 1:
                scores[k] = scores[k][:0]
    root = scores[tree.root.id]
    return np.broadcast_to(root, (runs, root.shape[1])) if root.shape[0] == 1 else root


def run_levels(plan: Plan, levels: np.ndarray, method: str = "auto",
               progress: Callable[[int, int], None] | None = None) -> tuple[Runs, str]:
    """Compute the distinct rows of ``levels`` once (vectorised when possible, ``method``
    ``"auto"``, ``"vector"`` or ``"loop"``) and expand to every row; also the path taken."""
    unique, inverse = np.unique(levels, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    obstacles = vector_obstacles(plan)
    if method == "vector" and obstacles:
        raise ValueError(f"cannot vectorise: {'; '.join(obstacles)}")
    path = "loop" if method == "loop" or obstacles else "vector"
    runs = (run_loop if path == "loop" else run_vectorised)(plan, unique, progress)
    return Runs(runs.totals[inverse], runs.ranks[inverse], runs.tiers[inverse]), path


# ---- THE ANALYSIS ----

@dataclass(frozen=True)
class UncertaintyResult:
    """Ranks over all runs and the sensitivity of the rank shift to each assumption.

    ``summary``: per unit, in nominal order: nominal rank, 5 %, median and 95 % ranks (whole
    ranks: values some run gave), nominal tier, share of runs in that tier, mean absolute rank
    shift. ``sensitivity``: per assumption: levels, first-order and total Sobol' indices with
    95 % bootstrap intervals, and a note when an interval is too wide. ``ranks``: one row per
    run. ``samples``: the base sample size N reached; ``path``: ``vector`` or ``loop``.
    """

    summary: pd.DataFrame
    sensitivity: pd.DataFrame
    ranks: pd.DataFrame
    runs: int
    notes: tuple[str, ...] = ()
    samples: int = 0
    path: str = "vector"


def run_memory(samples: int, factors: int, units: int) -> int:
    """Bytes a run of base sample ``samples`` with ``factors`` assumptions over ``units`` units
    needs at its peak (an upper estimate; the tests measure it): the larger of the runs' arrays
    (``BYTES_PER_RUN_UNIT`` per run and unit, ``samples × (factors + 2)`` runs) and the
    bootstrap's arrays beside the runs kept, plus one chunk.

    >>> run_memory(1000, 1, 100) == 1000 * 3 * 100 * 18 + 1000 * 501 * 8 * 9 + 2**28
    True
    """
    runs = samples * (factors + 2)
    kept = runs * units * BYTES_PER_RUN_UNIT
    base, per_factor = BOOTSTRAP_ARRAYS
    bootstrap = runs * units * 18 + samples * (BOOTSTRAP + 1) * 8 * (base + per_factor * factors)
    return max(kept, bootstrap) + CHUNK_BYTES


def largest_samples(factors: int, units: int, budget: int) -> int:
    """The largest base sample N whose :func:`run_memory` fits ``budget`` bytes (0: none does)."""
    per_sample = run_memory(1, factors, units) - CHUNK_BYTES  # run_memory is linear in N
    return max(0, (budget - CHUNK_BYTES) // per_sample)


def check_run_size(samples: int, factors: int, units: int,
                   budget: tuple[int, str] | None = None) -> None:
    """Refuse, before anything is allocated, a run that would need more memory than
    ``budget`` (bytes and how they were set; default :func:`~xl_aiindex.memory.memory_budget`):
    raises :class:`BadArgument` naming the memory needed and the largest ``--samples`` that fits.
    """
    limit, why = budget if budget is not None else memory_budget()
    need = run_memory(samples, factors, units)
    if need <= limit:
        return
    best = largest_samples(factors, units, limit)
    size = ngettext("{samples} × {runs} runs × {units} unit, with the bootstrap of the indices",
                    "{samples} × {runs} runs × {units} units, with the bootstrap of the indices",
                    units).format(samples=f"{samples:,}", runs=factors + 2, units=f"{units:,}")
    advice = (_("use --samples {best} or fewer").format(best=best) if best >= 4 else
              _("even the smallest run (--samples 4) does not fit: vary fewer assumptions, or "
                "run on a machine with more memory"))
    raise BadArgument(_("--samples {samples}: the uncertainty analysis would need about {need} "
                        "of memory ({size}), more than its budget of {limit} ({why}); "
                        "{advice}").format(samples=samples, need=gib(need), size=size,
                                           limit=gib(limit), why=why, advice=advice))


def _power_of_two(n: int) -> int:
    return 1 << max(2, int(n - 1).bit_length())


def run_uncertainty(model: IndexModel, assumptions: Sequence[Assumption],
                    samples: int = DEFAULT_SAMPLES, seed: int = 1, budget: float = DEFAULT_BUDGET,
                    progress: Callable[[int, int], None] | None = None,
                    weight_draws: int = DEFAULT_WEIGHT_DRAWS, method: str = "auto",
                    memory: tuple[int, str] | None = None) -> UncertaintyResult:
    """Run the index ``N · (factors + 2)`` times under the varied assumptions.

    ``samples``: the base sample size N to start from. N doubles while a 95 % interval is wider than 0.1 or the first-order indices sum above 1 by more than
    their error, as long as the runs so far say the next doubling ends within ``budget``
    seconds (0: never) and the memory ``memory`` (bytes and how they were set; default
    :func:`~xl_aiindex.memory.memory_budget`). Same arguments and seed, same result (unless the
    budget cut the doubling short: the note then gives the N to pass). Raises
    :class:`BadArgument` before computing anything when ``samples`` needs more memory than
    ``memory`` (:func:`check_run_size`), :class:`ProblemsFound` when a combination of the
    choices cannot be computed (e.g. geometric aggregation of z-scores).
    """
    if not assumptions:
        raise ProblemsFound([Problem("Uncertainty", problem=_(
            "the Uncertainty sheet lists no assumption to vary"))])
    k = len(assumptions)
    n = max(4, int(samples))
    n_units = len(model.units)
    memory = memory if memory is not None else memory_budget()
    check_run_size(n, k, n_units, memory)
    started = time.monotonic()
    nominal = build_index(model)
    plan = make_plan(model, assumptions, weight_draws, seed)
    _check_choice_combinations(plan)
    notes: list[str] = []
    obstacles = vector_obstacles(plan)
    if obstacles and method != "loop":
        notes.append(_("runs computed one by one (build_index per run), not vectorised: "
                       "{reasons} has no vectorised form").format(reasons="; ".join(obstacles)))
    # A and B: independent uniform rows (Monte Carlo), so that the bootstrap over rows is a
    # valid error estimate; a quasi-random sequence gains little here anyway, since a stream of
    # noisy weight vectors (or a left-out indicator) has no order in u for it to exploit
    draws = np.random.default_rng([seed, 3])
    units = nominal.rank.index
    nominal_rank = nominal.rank.to_numpy(dtype=float)
    blocks: list[Runs] = []
    ys: list[np.ndarray] = []
    total_n = 0
    path = "vector"
    run_time = 0.0
    while True:
        design = saltelli_design(plan.levels, draws.random((n - total_n, 2 * k)))
        t0 = time.monotonic()
        runs, path = run_levels(plan, design, method, progress)
        run_time += time.monotonic() - t0
        blocks.append(runs)
        with np.errstate(invalid="ignore"):
            ys.append(np.nanmean(np.abs(runs.ranks - nominal_rank), axis=1))
        total_n = n
        y = _saltelli_order(ys, k)
        if np.nanvar(y) == 0:
            table = pd.DataFrame({c: np.zeros(k) for c in ("first_order", "first_order_low",
                                  "first_order_high", "total", "total_low", "total_high")})
            table.attrs["first_order_sum"] = (0.0, 0.0, 0.0)
            notes.append(_("no assumption changed any rank: sensitivity indices are 0"))
            break
        table = sobol_indices(y, n, k, seed)
        s1_sum, _s1_low, sum_high = table.attrs["first_order_sum"]
        wide = (table["first_order_high"] - table["first_order_low"] > CI_WIDTH) | \
               (table["total_high"] - table["total_low"] > CI_WIDTH)
        over = s1_sum - 1 > sum_high - s1_sum
        if not (wide.any() or over):
            break
        elapsed = time.monotonic() - started
        # the next doubling computes as many runs again as all the runs so far
        fits = run_memory(2 * n, k, n_units) <= memory[0]
        if n < MAX_SAMPLES and elapsed + 1.2 * run_time <= budget and fits:
            n *= 2
            continue
        widest = float(np.max(np.r_[table["first_order_high"] - table["first_order_low"],
                                    table["total_high"] - table["total_low"]]))
        need = max(2 * n, min(MAX_SAMPLES,
                              _power_of_two(int(np.ceil(n * (widest / CI_WIDTH) ** 2)))))
        more = "" if run_memory(need, k, n_units) <= memory[0] else \
            _(" on a machine with more memory (the budget of {budget} fits N = {fits})").format(
                budget=gib(memory[0]), fits=largest_samples(k, n_units, memory[0]))
        why = []
        if wide.any():
            why.append(_("95 % intervals up to {widest} wide (above {limit})").format(
                widest=f"{widest:.2f}", limit=f"{CI_WIDTH:g}"))
        if over:
            why.append(_("first-order indices sum to {total}, above 1 by more than their "
                         "error").format(total=f"{s1_sum:.2f}"))
        notes.append(_("with N = {n}: {why}; for reliable indices run with --samples "
                       "{need}{more}").format(n=n, why=_(" and ").join(why), need=need,
                                              more=more))
        break
    ranks = _saltelli_order_rows([b.ranks for b in blocks], k)
    tiers = _saltelli_order_rows([b.tiers for b in blocks], k)
    sensitivity = table.assign(assumption=[a.name for a in plan.factors], levels=list(plan.levels))
    sensitivity["note"] = np.where(
        (sensitivity["first_order_high"] - sensitivity["first_order_low"] > CI_WIDTH)
        | (sensitivity["total_high"] - sensitivity["total_low"] > CI_WIDTH),
        _("interval wider than {limit}: raise --samples").format(limit=f"{CI_WIDTH:g}"), "")
    sensitivity = sensitivity[["assumption", "levels", "first_order", "first_order_low",
                               "first_order_high", "total", "total_low", "total_high", "note"]]
    summary = _summary(units, nominal_rank, nominal.tier.to_numpy(), ranks, tiers)
    return UncertaintyResult(summary, sensitivity, pd.DataFrame(ranks, columns=units),
                             len(ranks), tuple(notes), n, path)


def _summary(units: pd.Index, nominal_rank: np.ndarray, nominal_tier: np.ndarray,
             ranks: np.ndarray, tiers: np.ndarray) -> pd.DataFrame:
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # units no run ranks: NaN, as meant
        # "inverted_cdf": each quantile is a rank some run gave, so ranks stay whole
        q = np.nanquantile(ranks, [0.05, 0.5, 0.95], axis=0, method="inverted_cdf") \
            if ranks.size else np.full((3, len(units)), np.nan)
        shift = np.nanmean(np.abs(ranks - nominal_rank), axis=0)
    same = (tiers == nominal_tier).mean(axis=0)
    table = pd.DataFrame({
        "unit": units.astype(str), "nominal_rank": nominal_rank, "rank_q05": q[0],
        "median_rank": q[1], "rank_q95": q[2], "nominal_tier": nominal_tier.astype(int),
        "p_nominal_tier": np.where(nominal_tier > 0, same, np.nan), "mean_abs_shift": shift})
    return table.sort_values("nominal_rank", kind="stable").reset_index(drop=True)


def _check_choice_combinations(plan: Plan) -> None:
    """Every combination of the listed choices must be computable (with the first weight draw)."""
    choices = [i for i, a in enumerate(plan.factors) if a.how == "choice"]
    problems = []
    for combo in product(*(range(plan.levels[i]) for i in choices)):
        levels = [0] * len(plan.factors)
        for i, lv in zip(choices, combo, strict=True):
            levels[i] = lv
        try:
            build_index(variant_model(plan, levels))
        except ProblemsFound as e:
            problems.append(Problem("Uncertainty", field=plan.factors[choices[0]].name,
                                    problem=_("the combination {run} cannot be computed: "
                                              "{problem}").format(
                                                  run=plan.describe(levels),
                                                  problem=e.problems[0].problem)))
    if problems:
        raise ProblemsFound(problems)
