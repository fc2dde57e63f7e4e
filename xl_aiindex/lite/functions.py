"""The worksheet functions of xl-aiindex in xlwings Lite (Excel on Windows, Mac and the web).

One object handle, many answers::

    B1  =AI_MODEL(AI_Settings, AI_Framework, AI_Units, AI_Given)
    B3  =AI_INDEX($B$1, "北京")          92.9285…
    B4  =AI_RANK($B$1, "Shenzhen", "region")
    D1  =AI_RANKING($B$1)                 spills the Ranking table

``AI_MODEL`` receives the input sheets as ranges (the defined names ``xl-aiindex excel --lite``
adds), reads them with the desktop reader and builds the index; it answers an object handle
(``@ret(object)``) holding the outcome. Every other function takes that handle and answers from
it with the same values and the same ``#AI! …`` error texts as the desktop functions
(:mod:`xl_aiindex.workbook.answers`, shared with ``udfs``).

When the engine runs: Excel calls ``AI_MODEL`` again only when one of its ranges changed, and the
cells that use the handle only then. ``AI_MODEL`` keeps the last outcomes by the **content** of
its ranges (:class:`ContentCache`): the same inputs (a full recalculation, an undo, two
AI_MODEL cells over the same ranges, the scripts after the functions) give the cached outcome,
so the engine runs once per distinct input.

The functions' parameters carry no annotations, on purpose: xlwings Lite takes an annotation
as the argument's converter (``object`` would mean an object handle, ``Any`` has none); the
conversions are given with ``@arg``/``@ret`` instead.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ..i18n import _, use_language
from ..workbook import answers
from ..workbook.answers import Outcome, UdfError, evaluate
from .ranges import RangeBook, ValuesBook
from .runtime import arg, func, ret

log = logging.getLogger(__name__)

#: How many distinct inputs' outcomes are kept (most recently used first out last).
KEEP = 8

_RANGE = "the {sheet} sheet as a range starting at A1 (the defined name AI_{sheet})"


class IndexModelHandle:
    """What ``AI_MODEL`` answers: the outcome of building the index from one set of inputs.

    Excel shows it as an object handle (a card); the other functions take it as their first
    argument. ``fingerprint`` identifies the inputs it was built from.
    """

    def __init__(self, fingerprint: str, outcome: Outcome):
        self.fingerprint = fingerprint
        self.outcome = outcome

    def __repr__(self) -> str:
        o = self.outcome
        if o.result is not None:
            state = f"{len(o.result.total)} units"
        elif o.error is not None:
            state = "unreadable"
        else:
            state = f"{len(o.problems)} problems"
        return f"<xl-aiindex model: {state}>"


class ContentCache:
    """Outcomes by the fingerprint of their inputs, the :data:`KEEP` most recent.

    ``builds`` counts the engine runs (reads of the inputs into a model and the index built).
    """

    def __init__(self, keep: int = KEEP):
        self.keep = keep
        self.builds = 0
        self._outcomes: OrderedDict[str, Outcome] = OrderedDict()
        self._lock = threading.Lock()

    def handle(self, book: ValuesBook) -> IndexModelHandle:
        """The handle for ``book``'s inputs: the cached outcome when the same inputs were built
        before, else one build."""
        fingerprint = book.fingerprint()
        with self._lock:
            outcome = self._outcomes.get(fingerprint)
            if outcome is not None:
                self._outcomes.move_to_end(fingerprint)
                return IndexModelHandle(fingerprint, outcome)
        outcome = evaluate(book)
        with self._lock:
            self.builds += 1
            self._outcomes[fingerprint] = outcome
            while len(self._outcomes) > self.keep:
                self._outcomes.popitem(last=False)
        return IndexModelHandle(fingerprint, outcome)

    def clear(self) -> None:
        """Forget every outcome."""
        with self._lock:
            self._outcomes.clear()


#: The cache the Lite functions and scripts share (one per Pyodide interpreter).
CACHE = ContentCache()


def _outcome(model: Any) -> Outcome:
    """The outcome a handle holds; a :class:`UdfError` when ``model`` is not a handle."""
    if isinstance(model, list | tuple) and len(model) == 1:  # a 1-cell range around it
        inner = model[0]
        model = inner[0] if isinstance(inner, list | tuple) and len(inner) == 1 else inner
    if isinstance(model, IndexModelHandle):
        return model.outcome
    what = "a blank cell" if model is None or model == "" else f"{model!r}"[:60]
    raise UdfError(_("model must be the cell holding =AI_MODEL(AI_Settings, AI_Framework, "
                     "AI_Units, AI_Data or AI_Given), not {what}").format(what=what))


def _answer(compute: Callable[[Outcome], Any], model: Any) -> Any:
    """``compute`` on the handle's outcome; every failure becomes the ``#AI! …`` text the
    desktop function shows (never a traceback)."""
    try:
        outcome = _outcome(model)
        with use_language(outcome.language):   # the workbook's Settings language
            return compute(outcome)
    except UdfError as e:
        return e.text
    except Exception as e:  # a cell shows a short text, never a traceback
        log.exception("xl-aiindex Lite function failed")
        return f"#AI! internal error ({type(e).__name__}: {e})"[:250]


@func
@arg("settings", ndim=2, err_to_str=True, doc=_RANGE.format(sheet="Settings"))
@arg("framework", ndim=2, err_to_str=True, doc=_RANGE.format(sheet="Framework"))
@arg("units", ndim=2, err_to_str=True, doc=_RANGE.format(sheet="Units"))
@arg("data_or_given", ndim=2, err_to_str=True,
     doc="the Data sheet (Settings input = data) or the Given sheet (input = given), from A1")
@arg("given", ndim=2, err_to_str=True, doc="optional, with input = data: the Given sheet (its published column)")
@ret(object)
def AI_MODEL(settings, framework, units, data_or_given,
             given=None):
    """The index built from the input sheets (an object handle for AI_INDEX, AI_RANK…): Settings, Framework, Units and Data or Given, each a range from A1."""
    return CACHE.handle(RangeBook(settings, framework, units, data_or_given, given))


@func
@arg("model", object, doc="the cell holding =AI_MODEL(…)")
def AI_INDEX(model, city, year=None):
    """Total index score of a city (its Units id, Chinese name or English name); with a year column in Data, of that year (default the latest). Errors show as #AI! text."""
    return _answer(lambda o: answers.index_of(o, city, year), model)


@func
@arg("model", object, doc="the cell holding =AI_MODEL(…)")
def AI_SUBINDEX(model, city, node, year=None):
    """Score of a city in any node of the Framework (a dimension or an indicator's normalised value); optional year as AI_INDEX."""
    return _answer(lambda o: answers.subindex_of(o, city, node, year), model)


@func
@arg("model", object, doc="the cell holding =AI_MODEL(…)")
def AI_RANK(model, city, group=None, year=None):
    """Rank of a city by total score (1 = best, ties share the better rank); with a grouping column of Units (e.g. "region"), its rank within its group; optional year as AI_INDEX."""
    return _answer(lambda o: answers.rank_of(o, city, group, year), model)


@func
@arg("model", object, doc="the cell holding =AI_MODEL(…)")
def AI_TIER(model, city, as_label=False, year=None):
    """Tier of a city (1 = best) by the Settings 'tiers' rule; with as_label = TRUE, its label; optional year as AI_INDEX."""
    return _answer(lambda o: answers.tier_of(o, city, as_label, year), model)


@func
@arg("model", object, doc="the cell holding =AI_MODEL(…)")
def AI_WEIGHT(model, node):
    """Effective weight of a node in the total index (the product of the weights on its path from the root)."""
    return _answer(lambda o: answers.weight_of(o, node), model)


@func
@arg("model", object, doc="the cell holding =AI_MODEL(…)")
def AI_RANKING(model):
    """The whole ranking as a spilled table with headers: rank, unit, name_zh, name_en, score, tier, the first-level scores (and published, diff)."""
    return _answer(answers.ranking_rows, model)


@func
@arg("model", object, doc="the cell holding =AI_MODEL(…)")
def AI_SCORES(model):
    """Every node's score for every unit as a spilled table with headers, as in the Scores sheet."""
    return _answer(answers.scores_rows, model)
