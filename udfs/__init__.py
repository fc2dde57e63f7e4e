"""xl-aiindex in Excel: the module the workbook's ``xlwings.conf`` sheet names as ``UDF Modules``.

xlwings imports this package and, on *Import Functions*, writes a VBA wrapper for every object
here carrying ``__xlfunc__``: the worksheet functions of :mod:`udfs.functions` (``AI_INDEX``,
``AI_SUBINDEX``, ``AI_RANK``, ``AI_TIER``, ``AI_WEIGHT``, ``AI_RANKING``, ``AI_SCORES``,
``AI_RANK_INTERVAL``, ``AI_FIT_WEIGHTS``) and the macros of :mod:`udfs.macros` (``rebuild_results``,
``validate_inputs``). Nothing else is exported with that attribute, so nothing else reaches Excel.

Calculation model (details in :mod:`udfs.cache` and :mod:`udfs.functions`): the functions that
read the input sheets are volatile; per workbook, one burst of calls reads the inputs once, the
engine runs only when their fingerprint changed, and the macros share the same cache.

Importing this package touches no Excel: on Linux (CI) the xlwings decorators are pass-through and
every function is plain Python, e.g.::

    from udfs import AI_INDEX, use_book
    with use_book("workbooks/city_ai_index_2020.xlsx"):
        AI_INDEX("北京")     # 92.9285
"""

from .books import HeadlessBook, use_book
from .cache import CACHE
from .functions import (
    AI_FIT_WEIGHTS,
    AI_INDEX,
    AI_RANK,
    AI_RANK_INTERVAL,
    AI_RANKING,
    AI_SCORES,
    AI_SUBINDEX,
    AI_TIER,
    AI_WEIGHT,
    AI_WHY,
)
from .macros import rebuild_results, validate_inputs


def invalidate() -> None:
    """Forget every cached outcome: the next UDF call reads and computes afresh."""
    CACHE.invalidate()


__all__ = [
    "AI_FIT_WEIGHTS", "AI_INDEX", "AI_RANK", "AI_RANK_INTERVAL", "AI_RANKING", "AI_SCORES",
    "AI_SUBINDEX", "AI_TIER", "AI_WEIGHT", "AI_WHY", "CACHE", "HeadlessBook", "invalidate",
    "rebuild_results", "use_book",
    "validate_inputs",
]
