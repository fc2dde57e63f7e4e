"""xl-aiindex in xlwings Lite: worksheet functions and scripts that run in Excel's browser
Python (Pyodide) on Windows, the Mac and Excel on the web. docs/lite.md says how to set it up.

Importable with numpy and pandas alone: nothing on this path imports calamine, openpyxl, an XML
parser, click, olefile, SciPy or desktop xlwings (``tests/excel/test_lite.py`` checks
``sys.modules`` in a fresh interpreter). In xlwings Lite the decorators are Lite's own
(:mod:`~xl_aiindex.lite.runtime`); elsewhere every function is plain Python.

How the inputs reach the functions: one object handle
-----------------------------------------------------
A Lite function receives its arguments and nothing else: it cannot read other sheets. Two ways
were possible: every function takes the input sheets as ranges
(``=AI_INDEX("北京", AI_Settings, AI_Framework, AI_Units, AI_Given)``), or one function
takes them and answers an object handle that the others take
(``=AI_INDEX($B$1, "北京")`` with ``=AI_MODEL(AI_Settings, AI_Framework, AI_Units, AI_Given)``
in B1). **The handle was chosen**, because:

* the inputs cross from Excel into Python once per change, not once per cell: Lite sends
  every argument of every call as JSON, so 200 ``AI_INDEX`` cells would send the Data sheet
  200 times (and hash it 200 times to find the cached result);
* Excel's own dependency tracking does the rest: ``AI_MODEL`` is recalculated when a cell of
  its ranges changes, and the cells using the handle then, so no function is volatile (the
  desktop functions must be, as they read sheets that are not their arguments);
* formulas stay short and read like the desktop ones, with the handle as first argument.

The cost: a handle lives in the add-in's memory. After the add-in restarts the cells show an
expired handle until Excel recalculates (Ctrl+Alt+F9), which rebuilds it from the ranges.
The defined names (``AI_Settings``, ``AI_Framework``, ``AI_Units``, ``AI_Data``, ``AI_Given``:
one per input sheet, from A1 with room for new rows and columns) are still what ``AI_MODEL``
is given; ``xl-aiindex excel BOOK --lite`` adds them with a "Lite Examples" sheet.

Functions (:mod:`~xl_aiindex.lite.functions`): ``AI_MODEL``, ``AI_INDEX``, ``AI_SUBINDEX``,
``AI_RANK`` (with ``group``), ``AI_TIER``, ``AI_WEIGHT``, ``AI_RANKING`` and ``AI_SCORES``
(spilled). Scripts (:mod:`~xl_aiindex.lite.scripts`): ``rebuild_results`` and
``validate_inputs``.
"""

from .functions import (
    AI_INDEX,
    AI_MODEL,
    AI_RANK,
    AI_RANKING,
    AI_SCORES,
    AI_SUBINDEX,
    AI_TIER,
    AI_WEIGHT,
    CACHE,
    IndexModelHandle,
)
from .ranges import RangeBook

__all__ = ["AI_INDEX", "AI_MODEL", "AI_RANK", "AI_RANKING", "AI_SCORES", "AI_SUBINDEX",
           "AI_TIER", "AI_WEIGHT", "CACHE", "IndexModelHandle", "RangeBook"]
