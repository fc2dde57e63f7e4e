"""Editions over time on one scale: a panel (one row per unit and year) built year by year.

A panel model is an :class:`~xl_aiindex.model.IndexModel` whose ``data`` (or ``given``) is
indexed by ``(unit, year)``. Settings ``panel_normalisation`` says where the parameters of
imputation, outlier treatment, normalisation and data-driven weights come from:

- ``pooled`` (the default): all years together, so a score means the same in every year — what
  COINr's ``Normalise(purse, global = TRUE)`` does. The years are stacked as one table of
  unit-years, built once, and split back into years;
- ``per_year``: each year on its own (each edition as it was published);
- ``base:YEAR``: that year's parameters (its min/max, mean/sd, ranks, imputation statistics,
  treatment bounds, weights) applied to every year; scores may leave 0–100.

Ranks and tiers are always within a year. Each year's result is an ordinary
:class:`~xl_aiindex.model.IndexResult`, so everything that reads one result (explain, audit,
compare, report) works on any year.

>>> import pandas as pd
>>> from xl_aiindex.model import IndexModel, Node, Settings
>>> nodes = (Node("index", None), Node("a", "index", weight=1.0))
>>> units = pd.DataFrame({"name_zh": ["甲", "乙"], "name_en": ["A", "B"]}, index=["u1", "u2"])
>>> data = pd.DataFrame({"a": [1.0, 3.0, 2.0, 5.0]},
...     index=pd.MultiIndex.from_tuples([("u1", 2021), ("u2", 2021), ("u1", 2022), ("u2", 2022)],
...                                     names=["unit", "year"]))
>>> panel = build_panel(IndexModel(nodes, Settings(), units, data))
>>> panel.scores()["index"].round(1).tolist()
[0.0, 50.0, 25.0, 100.0]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd

from .errors import Problem, ProblemsFound
from .i18n import _
from .model import IndexModel, IndexResult, Step
from .pipeline import build_index, check_model
from .rank import assign_tiers, rank_units

#: The index level holding the year in a panel's Data/Given frame.
YEAR = "year"
#: Values of Settings ``panel_normalisation`` (``base`` is written ``base:YEAR``).
PANEL_MODES = ("pooled", "per_year", "base")
#: Joins unit and year into the id of a unit-year while the years are stacked (pooled).
_JOIN = "@"


def is_panel(frame: pd.DataFrame | None) -> bool:
    """Whether ``frame`` (a model's data or given) is a panel: indexed by unit and year."""
    return (frame is not None and isinstance(frame.index, pd.MultiIndex)
            and list(frame.index.names)[-1] == YEAR)


def _inputs(model: IndexModel) -> pd.DataFrame:
    frame = model.data if model.settings.input == "data" else model.given
    if frame is None or not is_panel(frame):
        raise ValueError("a panel model's Data (or Given) is indexed by (unit, year)")
    return frame


def panel_years(model: IndexModel) -> tuple[int, ...]:
    """The years of a panel model, ascending."""
    return tuple(sorted(int(y) for y in _inputs(model).index.get_level_values(YEAR).unique()))


def parse_panel_mode(text: str, years: tuple[int, ...]) -> tuple[str, int | None]:
    """``(mode, base year)`` from a ``panel_normalisation`` value; ValueError saying what is
    expected when it is not one of them or names a year the panel does not have."""
    name, _colon, arg = str(text).strip().partition(":")
    name = name.strip().lower()
    if name in ("pooled", "per_year") and not arg:
        return name, None
    if name == "base":
        try:
            year = int(float(arg))
        except ValueError:
            raise ValueError(_("'{text}': base needs a year, e.g. base:{year}").format(
                text=text, year=years[0] if years else 2020)) from None
        if year not in years:
            raise ValueError(_("'{text}': the panel has no year {year} (years: {years})").format(
                text=text, year=year, years=", ".join(map(str, years))))
        return name, year
    raise ValueError(_("'{text}' is not one of {choices}").format(
        text=text, choices="pooled, per_year, base:YEAR"))


def year_model(model: IndexModel, year: int) -> IndexModel:
    """The model of one year: the units with a row that year and their rows, indexed by unit."""
    frame = _inputs(model)
    rows = frame.xs(year, level=YEAR)
    units = model.units.loc[model.units.index.intersection(rows.index, sort=False)]
    change = {"data" if model.settings.input == "data" else "given": rows}
    return model._replace(units=units, **change)


@dataclass(frozen=True)
class PanelResult:
    """A panel built: each year's result, and how the years were put on one scale.

    ``mode``: ``pooled``, ``per_year`` or ``base:YEAR``. ``by_year``: each year's
    :class:`IndexResult` (indexed by unit id, the units present that year; ranks and tiers
    within the year). ``notes``: things done for the whole panel (a note of one year's build is
    prefixed with its year).
    """

    mode: str
    by_year: Mapping[int, IndexResult]
    notes: tuple[str, ...] = ()

    @property
    def years(self) -> tuple[int, ...]:
        """The years, ascending."""
        return tuple(sorted(self.by_year))

    @property
    def latest(self) -> int:
        """The last year: what a question without a year is about."""
        return self.years[-1]

    def scores(self) -> pd.DataFrame:
        """Every node's score per unit-year, indexed by ``(unit, year)``, years in order."""
        frames = {y: self.by_year[y].scores for y in self.years}
        out = pd.concat(frames, names=[YEAR, "unit"])
        return out.swaplevel().sort_index(level=YEAR, sort_remaining=False)

    def ranking(self) -> pd.DataFrame:
        """``total``, ``rank`` and ``tier`` per unit-year, indexed by ``(unit, year)``."""
        frames = {y: pd.DataFrame({"total": r.total, "rank": r.rank, "tier": r.tier})
                  for y, r in self.by_year.items()}
        out = pd.concat(frames, names=[YEAR, "unit"])
        return out.swaplevel().sort_index(level=YEAR, sort_remaining=False)

    def result(self, year: int | None = None) -> YearResult:
        """The result of ``year`` (None: the latest) as a :class:`YearResult`: an ordinary
        :class:`IndexResult` that also knows its year and this panel. ValueError naming the
        years when the panel has no such year."""
        year = self.latest if year is None else int(year)
        if year not in self.by_year:
            raise ValueError(f"the panel has no year {year} (years: "
                             f"{', '.join(map(str, self.years))})")
        one = self.by_year[year]
        return YearResult(**{f.name: getattr(one, f.name) for f in fields(one)},
                          year=year, panel=self)


@dataclass(frozen=True)
class YearResult(IndexResult):
    """One year of a panel: everything that reads an :class:`IndexResult` (explain, audit,
    compare, the single-year result sheets) reads it as that year's result; the writers of
    the panel sheets (Scores, Ranking and Tiers per year, Trends) find the whole panel in
    ``panel``."""

    year: int = 0
    panel: PanelResult | None = field(default=None, compare=False, repr=False)


def panel_of(result: IndexResult) -> PanelResult | None:
    """The panel ``result`` is a year of (None: a single-year result)."""
    return result.panel if isinstance(result, YearResult) else None


def build_panel(model: IndexModel, mode: str = "pooled") -> PanelResult:
    """Build every year of the panel ``model`` with the years put on one scale as ``mode``
    (``pooled``, ``per_year``, ``base:YEAR``) says.

    Raises :class:`ProblemsFound` listing every problem, each carrying its year.
    """
    years = panel_years(model)
    try:
        name, base = parse_panel_mode(mode, years)
    except ValueError as e:
        raise ProblemsFound([Problem("Settings", problem=_("setting '{key}': {problem}").format(
                                         key="panel_normalisation", problem=e),
                                     field="panel_normalisation")]) from None
    if name == "pooled":
        return _pooled(model, years)
    if name == "per_year":
        by_year, notes = _each_year(model, years, None)
        return PanelResult("per_year", by_year, notes)
    assert base is not None
    try:
        reference = build_index(year_model(model, base))
    except ProblemsFound as e:
        raise ProblemsFound([replace(p, year=base) for p in e.problems]) from None
    by_year, notes = _each_year(model, years, reference)
    return PanelResult(f"base:{base}", by_year, notes)


def _each_year(model: IndexModel, years: tuple[int, ...], reference: IndexResult | None
               ) -> tuple[dict[int, IndexResult], tuple[str, ...]]:
    by_year: dict[int, IndexResult] = {}
    problems: list[Problem] = []
    notes: list[str] = []
    for y in years:
        try:
            result = build_index(year_model(model, y), reference)
        except ProblemsFound as e:
            problems.extend(replace(p, year=y) for p in e.problems)
            continue
        notes.extend(f"{y}: {n}" for n in result.notes)
        by_year[y] = result
    if problems:
        raise ProblemsFound(problems)
    return by_year, tuple(notes)


def _stack(model: IndexModel, years: tuple[int, ...]) -> tuple[IndexModel, dict[str, tuple[str, int]]]:
    """The panel as one model whose units are unit-years (``beijing@2021``, named ``北京 2021``)."""
    frame = _inputs(model)
    ids = {f"{u}{_JOIN}{y}": (str(u), int(y)) for u, y in frame.index}
    rows = frame.set_axis(list(ids), axis=0)
    units = model.units.reindex([u for u, _ in ids.values()]).set_axis(list(ids), axis=0)
    for column in ("name_zh", "name_en"):
        if column in units.columns:
            units[column] = [f"{name} {y}" if isinstance(name, str) and name else name
                             for name, (_, y) in zip(units[column], ids.values(), strict=True)]
    change = {"data" if model.settings.input == "data" else "given": rows}
    return model._replace(units=units, **change), ids


def _pooled(model: IndexModel, years: tuple[int, ...]) -> PanelResult:
    # unit pairs to compare name units, not unit-years: checked on a year, not on the stack
    _tree, problems, _notes = check_model(year_model(model, years[-1]))
    if any(p.field == "compare" for p in problems):
        raise ProblemsFound([p for p in problems if p.field == "compare"])
    stacked, ids = _stack(model, years)
    stacked = stacked._replace(settings=stacked.settings._replace(compare=()))
    try:
        whole = build_index(stacked)
    except ProblemsFound as e:
        raise ProblemsFound([_unstack_problem(p, ids) for p in e.problems]) from None
    s = model.settings
    by_year: dict[int, IndexResult] = {}
    for y in years:
        mine = [i for i, (_, year) in ids.items() if year == y]
        units = pd.Index([ids[i][0] for i in mine])

        def cut(frame: pd.DataFrame, mine: list[str] = mine, units: pd.Index = units
                ) -> pd.DataFrame:
            return frame.loc[mine].set_axis(units, axis=0)

        scores = cut(whole.scores)
        coverage = whole.coverage.loc[mine].set_axis(units)
        total = scores[whole.root]
        eligible = (coverage >= s.coverage_min) & total.notna()
        rank = rank_units(total, s.rank_decimals, eligible)
        by_year[y] = IndexResult(
            model=year_model(model, y), stages={k: cut(v) for k, v in whole.stages.items()},
            scores=scores, coverage=coverage, rank=rank,
            tier=assign_tiers(rank, total, s.tiers, s.rank_decimals),
            weights_used=whole.weights_used, treatment=whole.treatment,
            log=(*whole.log, Step("panel", {"normalisation": "pooled", "years": list(years)})))
    return PanelResult("pooled", by_year, tuple(_unstack_text(n) for n in whole.notes))


def _unstack_problem(problem: Problem, ids: dict[str, tuple[str, int]]) -> Problem:
    if problem.unit in ids:
        unit, year = ids[problem.unit]
        return replace(problem, unit=unit, year=year, problem=_unstack_text(problem.problem))
    return problem


#: A unit-year id of the stacked panel in a message (``beijing@2021``).
_STACKED_ID = re.compile(r"(\S+?)" + re.escape(_JOIN) + r"(\d{1,4})\b")


def _unstack_text(message: str) -> str:
    """A message of the stacked build as the user reads it: ``b@2021 (乙 2021)`` → ``b
    (乙 2021)`` (the name keeps the year), a bare ``b@2021`` → ``b 2021``."""
    message = re.sub(_STACKED_ID.pattern + r"(?= \()", r"\1", message)
    return _STACKED_ID.sub(r"\1 \2", message)


def trends(panel: PanelResult) -> pd.DataFrame:
    """One row per unit: the index in each year side by side, then ``change`` and
    ``rank_change`` from the first year to the last (positive: rose; blank when the unit is
    missing in either year). Ordered by the last year's rank."""
    first, last = panel.years[0], panel.years[-1]
    totals = pd.DataFrame({y: panel.by_year[y].total for y in panel.years})
    ranks = pd.DataFrame({y: panel.by_year[y].rank for y in panel.years})
    out = totals.copy()
    out["change"] = totals[last] - totals[first]
    # rank 1 is best: climbing from 5th to 2nd is +3
    out["rank_change"] = ranks[first] - ranks[last]
    out["rank_last"] = ranks[last]
    out = out.sort_values("rank_last", na_position="last", kind="stable").drop(columns="rank_last")
    out.index.name = "unit"
    return out.astype(float).replace([np.inf, -np.inf], np.nan)
