"""The worksheet functions (``@xw.func``): ``=AI_INDEX("北京")`` and friends.

Each function converts its arguments, asks the shared cache (:mod:`udfs.cache`) for the engine's
outcome for the calling workbook, and returns one value or one table; any failure is a short
``#AI! …`` text (:mod:`udfs.answers`), never a Python traceback. In the workbook the VBA wrapper
turns that text into a real Excel error (``#N/A`` for an unknown name, ``#VALUE!`` otherwise,
an argument's own error passed on) and ``=AI_WHY(cell)`` shows the text (:mod:`udfs.why`).
Error cells given as arguments arrive as their error text (``err_to_str``), never as blanks.

When Excel calls them again
---------------------------
Excel recalculates a UDF only when its arguments change, unless it is volatile. ``AI_INDEX``,
``AI_SUBINDEX``, ``AI_RANK``, ``AI_TIER``, ``AI_WEIGHT``, ``AI_RANKING`` and ``AI_SCORES`` read
the input sheets, and ``AI_RANK_INTERVAL`` the UncertaintyResults sheet (it never starts a run),
none of which are their arguments, so they are **volatile**
(``@xw.func(volatile=True)``: the generated VBA wrapper calls ``Application.Volatile``), and not
called while the Insert Function dialog is open (``call_in_wizard=False``): every
recalculation of the workbook (any edit, F9) calls them again. That is cheap by design: the first
call of a burst reads and fingerprints the input sheets once, the engine runs only if the
fingerprint changed, and every other call of the burst answers from the cache without reading
anything (:mod:`udfs.cache`). ``AI_FIT_WEIGHTS`` is computed from its arguments only, so it is
not volatile: Excel recalculates it when the ranges it is given change.

The hidden ``caller`` argument receives the calling cell from xlwings (Excel never shows it); its
workbook is the one read. Called from Python, ``caller`` may be a book or a workbook path, or
omitted inside ``with udfs.use_book(path):``.

Classic UDFs work in Excel on Windows only; on macOS use the macros (RunPython).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import xlwings as xw

from xl_aiindex.i18n import _, use_language

from . import answers
from .answers import UdfError
from .books import NoBook, book_of_caller
from .cache import CACHE, Outcome
from .why import ERRORS, cell_key

CATEGORY = "xl-aiindex"
_CITY = "A city: its Units id, Chinese name or English name, e.g. \"北京\", \"Beijing\" or \"beijing\"."
_NODE = ("A node of the Framework (the index, a dimension, an indicator): its id, Chinese name or "
         "English name, e.g. \"rnd\".")
_YEAR = ("Optional: a year of a workbook whose Data (or Given) has a year column, e.g. 2021; "
         "left out: the latest year.")
log = logging.getLogger(__name__)


def _answer(compute: Callable[[Outcome], Any], caller: Any) -> Any:
    """Run ``compute`` on the calling workbook's outcome; every failure becomes ``#AI! …``,
    its reason kept for ``AI_WHY``."""
    return ERRORS.note(caller, _compute(compute, caller))


def _compute(compute: Callable[[Outcome], Any], caller: Any) -> Any:
    try:
        outcome = CACHE.outcome(book_of_caller(caller), cell=cell_key(caller))
        with use_language(outcome.language):   # the workbook's Settings language
            return compute(outcome)
    except UdfError as e:
        return e.text
    except NoBook as e:
        return f"#AI! {e}"
    except Exception as e:  # a cell shows a short text, never a traceback
        log.exception("xl-aiindex UDF failed")
        return _internal_error(e)


def _internal_error(e: Exception) -> str:
    return "#AI! " + _("internal error ({kind}: {error})").format(kind=type(e).__name__,
                                                                 error=e)[:245]


@xw.func(volatile=True, call_in_wizard=False, category=CATEGORY)
@xw.arg("city", err_to_str=True, doc=_CITY)
@xw.arg("year", err_to_str=True, doc=_YEAR)
def AI_INDEX(city: Any, year: Any = None, caller: Any = None) -> Any:
    """Total index score of a city, computed by xl-aiindex from this workbook's input sheets (Settings, Framework, Units, Data/Given); with a year column in Data, of that year (default the latest). Errors show as #AI! text."""
    return _answer(lambda o: answers.index_of(o, city, year), caller)


@xw.func(volatile=True, call_in_wizard=False, category=CATEGORY)
@xw.arg("city", err_to_str=True, doc=_CITY)
@xw.arg("node", err_to_str=True, doc=_NODE)
@xw.arg("year", err_to_str=True, doc=_YEAR)
def AI_SUBINDEX(city: Any, node: Any, year: Any = None, caller: Any = None) -> Any:
    """Score of a city in any node of the Framework (a dimension, a sub-dimension or an indicator's normalised value). With input = given, nodes below Given's columns have none."""
    return _answer(lambda o: answers.subindex_of(o, city, node, year), caller)


@xw.func(volatile=True, call_in_wizard=False, category=CATEGORY)
@xw.arg("city", err_to_str=True, doc=_CITY)
@xw.arg("group", err_to_str=True, doc="Optional: a grouping column of Units, e.g. \"region\": the rank among the cities of the same group.")
@xw.arg("year", err_to_str=True, doc=_YEAR)
def AI_RANK(city: Any, group: Any = None, year: Any = None, caller: Any = None) -> Any:
    """Rank of a city by total index score: 1 = best; tied cities share the better rank. With a grouping column of Units (e.g. "region"), its rank within its group."""
    return _answer(lambda o: answers.rank_of(o, city, group, year), caller)


@xw.func(volatile=True, call_in_wizard=False, category=CATEGORY)
@xw.arg("city", err_to_str=True, doc=_CITY)
@xw.arg("as_label", err_to_str=True, doc="Optional: TRUE (or 1) for the tier's label (e.g. 第一梯队), FALSE (or 0, or left out) for its number.")
@xw.arg("year", err_to_str=True, doc=_YEAR)
def AI_TIER(city: Any, as_label: Any = False, year: Any = None, caller: Any = None) -> Any:
    """Tier of a city (1 = best), by the Settings 'tiers' rule; with as_label = TRUE, the tier's label from 'tier_labels'."""
    return _answer(lambda o: answers.tier_of(o, city, as_label, year), caller)


@xw.func(volatile=True, call_in_wizard=False, category=CATEGORY)
@xw.arg("node", err_to_str=True, doc=_NODE)
def AI_WEIGHT(node: Any, caller: Any = None) -> Any:
    """Effective weight of a node in the total index (weight_in_total: the product of the weights on its path from the root; 1 for the root)."""
    return _answer(lambda o: answers.weight_of(o, node), caller)


@xw.func(volatile=True, call_in_wizard=False, category=CATEGORY)
def AI_RANKING(caller: Any = None) -> Any:
    """The whole ranking as a spilled table with headers: rank, unit, name_zh, name_en, score, tier, the first-level scores (and published, diff)."""
    return _answer(answers.ranking_rows, caller)


@xw.func(volatile=True, call_in_wizard=False, category=CATEGORY)
def AI_SCORES(caller: Any = None) -> Any:
    """Every node's score for every unit as a spilled table with headers, as in the Scores sheet (root last, then coverage)."""
    return _answer(answers.scores_rows, caller)


@xw.func(volatile=True, call_in_wizard=False, category=CATEGORY)
@xw.arg("city", err_to_str=True, doc=_CITY)
def AI_RANK_INTERVAL(city: Any, caller: Any = None) -> Any:
    """Rank interval of a city from the last uncertainty run (sheet UncertaintyResults): spills 5% rank, median rank, 95% rank. Never starts a run: run xl-aiindex uncertainty first."""
    try:
        return answers.rank_interval(book_of_caller(caller), city)
    except UdfError as e:
        return e.text
    except NoBook as e:
        return f"#AI! {e}"
    except Exception as e:  # a cell shows a short text, never a traceback
        log.exception("xl-aiindex UDF failed")
        return _internal_error(e)


@xw.func(category=CATEGORY)
@xw.arg("subscores", ndim=2, err_to_str=True, doc="Sub-scores: one column per child node, one row per unit; a header row of names is optional.")
@xw.arg("totals", ndim=2, err_to_str=True, doc="Totals to explain: one column, same units in the same order; a header is optional.")
def AI_FIT_WEIGHTS(subscores: Any, totals: Any, caller: Any = None) -> Any:
    """Least-squares weights (each >= 0, summing to 1) that best turn the sub-scores into the totals, then the RMSE and each row's residual (total - fitted). Spills a 2-column table."""
    answer: Any
    try:
        answer = answers.fit_table(subscores, totals)
    except UdfError as e:
        answer = e.text
    except Exception as e:  # a cell shows a short text, never a traceback
        log.exception("xl-aiindex UDF failed")
        answer = _internal_error(e)
    return ERRORS.note(caller, answer)


@xw.func(category=CATEGORY)
@xw.arg("cell", xw.Range, doc="A cell holding an xl-aiindex function that shows an error, e.g. C5.")
def AI_WHY(cell: Any) -> Any:
    """Why the xl-aiindex function in a cell shows an error (#N/A, #VALUE!...): the reason as text, e.g. unknown city "Pekin" - did you mean Beijing?"""
    return ERRORS.reason(cell)
