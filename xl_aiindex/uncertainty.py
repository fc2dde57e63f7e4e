"""Uncertainty and sensitivity analysis: how much do the ranks depend on the analyst's choices?

The ``Uncertainty`` sheet lists assumptions (``assumption``, ``how``, ``values``):

========================  ======================================================================
``weights / uniform / p``  every given weight varies within ±p (e.g. 0.25 = ±25 %), rescaled
                           per sibling group
``weights / dirichlet / c`` each sibling group's weights drawn from Dirichlet(c · w) (mean w;
                           higher c = less variation)
``normalisation / choice`` one of the listed methods (``minmax;zscore``) as the default
``aggregation / choice``   one of the listed methods as the default
``missing / choice``       one of the listed missing-value methods
``indicators / leave_one_out`` no indicator, or one of them, left out
========================  ======================================================================

Per-node method overrides in the Framework stay as they are. Each assumption is one factor (a
group of inputs for the weights) of a variance-based (Sobol) design: Saltelli sampling and
Jansen/Saltelli estimators from SALib. The output studied is the mean absolute rank shift of the
units against the nominal ranking (as COINr's sensitivity analysis does); the rank distribution
of every unit over all runs is the uncertainty analysis.

Formula form: none; results are written as values (``UncertaintyResults``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import product
from typing import Any

import numpy as np
import pandas as pd

from .aggregate import AGGREGATORS
from .errors import Problem, ProblemsFound
from .impute import MISSING_METHODS
from .model import IndexModel, Node
from .normalise import NORMALISERS
from .pipeline import build_index
from .settings import split_method

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
            bad(name, f"unknown assumption '{raw_name}'; choose one of: {', '.join(ASSUMPTIONS)}")
            continue
        if how not in ASSUMPTIONS[name]:
            bad(name, f"assumption '{name}': unknown way '{raw_how}'; choose one of: "
                      f"{', '.join(ASSUMPTIONS[name])}")
            continue
        if name in seen:
            bad(name, f"assumption '{name}' is listed twice")
            continue
        seen.add(name)
        if how in ("uniform", "dirichlet"):
            try:
                amount = float(raw_values)
            except (TypeError, ValueError):
                amount = float("nan")
            ok = 0 < amount < 1 if how == "uniform" else amount > 0
            if not ok:
                bad(name, f"weights / {how} needs "
                          + ("a share between 0 and 1 (0.25 = each weight ±25%)" if how == "uniform"
                             else "a positive concentration (e.g. 50)")
                          + f", not {raw_values!r}")
                continue
            out.append(Assumption(name, how, amount=amount))
        elif how == "choice":
            choices = tuple(c.strip().lower() for c in str(raw_values or "").split(";") if c.strip())
            valid = _CHOICES[name]
            unknown = [c for c in choices if split_method(c)[0] not in valid]
            if len(choices) < 2 or unknown:
                bad(name, f"{name} / choice needs two or more of: {', '.join(valid)}, separated by "
                          f"';'" + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
                continue
            out.append(Assumption(name, how, choices=choices))
        else:
            out.append(Assumption(name, how))
    return out, problems


@dataclass(frozen=True)
class _Factor:
    name: str
    group: str
    apply: Callable[[dict[str, Any], float], None]


@dataclass(frozen=True)
class UncertaintyResult:
    """Ranks over all runs and the sensitivity of the rank shift to each assumption.

    ``summary``: per unit: nominal rank, median rank, 5th and 95th percentile ranks, mean
    absolute rank shift. ``sensitivity``: per assumption: first-order and total Sobol indices
    (with 95 % confidence half-widths). ``ranks``: one row per run.
    """

    summary: pd.DataFrame
    sensitivity: pd.DataFrame
    ranks: pd.DataFrame
    runs: int
    notes: tuple[str, ...] = ()


def _leaves(model: IndexModel) -> list[str]:
    parents = {n.parent for n in model.nodes}
    return [n.id for n in model.nodes if n.id not in parents]


def _factors(model: IndexModel, assumptions: Sequence[Assumption]) -> list[_Factor]:
    from scipy.stats import gamma

    factors: list[_Factor] = []
    weighted = [n for n in model.nodes if n.parent is not None and n.weight is not None]
    for a in assumptions:
        if a.name == "weights":
            for n in weighted:
                def perturb(state: dict[str, Any], u: float, node: Node = n, a: Assumption = a) -> None:
                    w = float(node.weight or 0.0)
                    if a.how == "uniform":
                        state["weights"][node.id] = w * (1 + a.amount * (2 * u - 1))
                    else:  # independent gammas rescaled per group are Dirichlet(c·w)
                        state["weights"][node.id] = float(gamma.ppf(min(max(u, 1e-12), 1 - 1e-12),
                                                                    a.amount * w)) if w > 0 else 0.0
                factors.append(_Factor(f"weight {n.id}", "weights", perturb))
        elif a.how == "choice":
            def choose(state: dict[str, Any], u: float, a: Assumption = a) -> None:
                state["settings"][a.name] = a.choices[min(int(u * len(a.choices)), len(a.choices) - 1)]
            factors.append(_Factor(a.name, a.name, choose))
        else:  # indicators / leave_one_out
            leaves = _leaves(model)

            def drop(state: dict[str, Any], u: float, leaves: list[str] = leaves) -> None:
                k = min(int(u * (len(leaves) + 1)), len(leaves))
                state["drop"] = leaves[k - 1] if k else None
            factors.append(_Factor("indicators", "indicators", drop))
    return factors


def _variant(model: IndexModel, state: dict[str, Any]) -> IndexModel:
    nodes = [replace(n, weight=state["weights"].get(n.id, n.weight)) for n in model.nodes]
    data = model.data
    dropped = state.get("drop")
    if dropped:
        removed = {dropped}
        # a parent left without children goes too, up the tree
        while True:
            parents = {n.parent for n in nodes if n.id not in removed}
            gone = {n.id for n in nodes if n.id not in removed and n.id not in parents
                    and any(m.parent == n.id for m in nodes)}
            if not gone:
                break
            removed |= gone
        nodes = [n for n in nodes if n.id not in removed]
        if data is not None:
            data = data.drop(columns=[c for c in removed if c in data.columns])
    settings = replace(model.settings, weights="rescale", **state["settings"])
    return replace(model, nodes=tuple(nodes), settings=settings, data=data)


def run_uncertainty(model: IndexModel, assumptions: Sequence[Assumption], samples: int = 64,
                    seed: int = 1, progress: Callable[[int, int], None] | None = None
                    ) -> UncertaintyResult:
    """Run the index ``samples · (factors + 2)`` times under the varied assumptions.

    ``samples`` is Saltelli's base sample size (a power of 2 keeps the Sobol sequence balanced).
    Raises :class:`ProblemsFound` when a combination of the choices cannot be computed (e.g.
    geometric aggregation of z-scores), naming the combination.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    if not assumptions:
        raise ProblemsFound([Problem("Uncertainty", problem="the Uncertainty sheet lists no "
                                     "assumption to vary")])
    nominal = build_index(model)
    _check_choice_combinations(model, assumptions)
    factors = _factors(model, assumptions)
    groups = [f.group for f in factors]
    problem = {"num_vars": len(factors), "names": [f.name for f in factors],
               "bounds": [[0.0, 1.0]] * len(factors), "groups": groups}
    x = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    units = nominal.rank.index
    ranks = np.empty((len(x), len(units)))
    for i, row in enumerate(x):
        state: dict[str, Any] = {"weights": {}, "settings": {}, "drop": None}
        for f, u in zip(factors, row, strict=True):
            f.apply(state, float(u))
        try:
            ranks[i] = build_index(_variant(model, state)).rank.reindex(units).to_numpy()
        except ProblemsFound as e:
            raise ProblemsFound([Problem("Uncertainty", problem=f"a run with {_describe(state)} "
                                         f"cannot be computed: {e.problems[0].problem}")]) from None
        if progress is not None:
            progress(i + 1, len(x))
    nominal_rank = nominal.rank.to_numpy()
    shift = np.nanmean(np.abs(ranks - nominal_rank), axis=1)
    notes: list[str] = []
    names = sorted(set(groups), key=groups.index)
    if np.nanvar(shift) == 0:
        notes.append("no assumption changed any rank: sensitivity indices are 0")
        si = {"S1": np.zeros(len(names)), "S1_conf": np.zeros(len(names)),
              "ST": np.zeros(len(names)), "ST_conf": np.zeros(len(names))}
    else:
        si = sobol_analyze.analyze(problem, shift, calc_second_order=False, seed=seed)
    sensitivity = pd.DataFrame({"assumption": names, "first_order": si["S1"],
                                "first_order_conf": si["S1_conf"], "total": si["ST"],
                                "total_conf": si["ST_conf"]})
    rank_table = pd.DataFrame(ranks, columns=units)
    summary = pd.DataFrame({
        "unit": units.astype(str),
        "nominal_rank": nominal_rank,
        "median_rank": rank_table.median().to_numpy(),
        "rank_q05": rank_table.quantile(0.05).to_numpy(),
        "rank_q95": rank_table.quantile(0.95).to_numpy(),
        "mean_abs_shift": (rank_table - nominal_rank).abs().mean().to_numpy(),
    }).sort_values("nominal_rank", kind="stable").reset_index(drop=True)
    return UncertaintyResult(summary, sensitivity, rank_table, len(x), tuple(notes))


def _describe(state: dict[str, Any]) -> str:
    parts = [f"{k} = {v}" for k, v in state["settings"].items()]
    if state.get("drop"):
        parts.append(f"indicator {state['drop']} left out")
    return ", ".join(parts) or "varied weights"


def _check_choice_combinations(model: IndexModel, assumptions: Sequence[Assumption]) -> None:
    """Every combination of the listed choices must be computable with the nominal weights."""
    choices = [a for a in assumptions if a.how == "choice"]
    problems = []
    for combo in product(*(a.choices for a in choices)):
        state = {"weights": {}, "settings": dict(zip((a.name for a in choices), combo, strict=True)),
                 "drop": None}
        try:
            build_index(_variant(model, state))
        except ProblemsFound as e:
            problems.append(Problem("Uncertainty", field=choices[0].name,
                                    problem=f"the combination {_describe(state)} cannot be "
                                            f"computed: {e.problems[0].problem}"))
    if problems:
        raise ProblemsFound(problems)
