"""xl-aiindex: build, compute, check and explain composite indices, in Excel and headless.

Public API: one function per command in :mod:`xl_aiindex.api` (docs/python-api.md), and the
engine underneath::

    from xl_aiindex import api
    done = api.recalc("workbooks/city_ai_index_2020.xlsx", output="out.xlsx")

    from xl_aiindex import load_workbook, build_index
    loaded = load_workbook("workbooks/city_ai_index_2020.xlsx")
    result = build_index(loaded.model)
    result.total.sort_values(ascending=False).head()

The command functions are reached as ``api.recalc``, ``api.audit``…, not as
``xl_aiindex.audit``: ``xl_aiindex.audit``, ``.explain``, ``.weights`` and ``.uncertainty`` are
the engine's modules, and ``xl_aiindex.fit_weights`` is the engine's weight inference.

Names are imported on first use (PEP 562), so ``xl-aiindex --help`` does not pay for pandas,
SciPy and openpyxl.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> module that defines it (a name equal to its module: the module itself)
_EXPORTS = {
    "api": "api",
    "Problem": "errors", "ProblemsFound": "errors", "UnknownMethodError": "errors",
    "UnreadableWorkbook": "errors", "UnsafeWrite": "errors", "XlAiIndexError": "errors",
    "WeightFit": "fit", "fit_weights": "fit",
    "IndexModel": "model", "IndexResult": "model", "Node": "model", "Settings": "model",
    "TierRule": "model",
    "build_index": "pipeline", "check_model": "pipeline",
    "load_workbook": "workbook.io", "recalc_file": "workbook.io", "validate_file": "workbook.io",
}

__all__ = [
    "IndexModel", "IndexResult", "Node", "Problem", "ProblemsFound", "Settings", "TierRule",
    "UnknownMethodError", "UnreadableWorkbook", "UnsafeWrite", "WeightFit", "XlAiIndexError",
    "__version__", "api", "build_index", "check_model", "fit_weights", "load_workbook", "recalc_file",
    "validate_file",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'xl_aiindex' has no attribute '{name}'")
    imported = import_module(f".{module}", __name__)
    value = imported if name == module else getattr(imported, name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from . import api
    from .errors import (
        Problem,
        ProblemsFound,
        UnknownMethodError,
        UnreadableWorkbook,
        UnsafeWrite,
        XlAiIndexError,
    )
    from .fit import WeightFit, fit_weights
    from .model import IndexModel, IndexResult, Node, Settings, TierRule
    from .pipeline import build_index, check_model
    from .workbook.io import load_workbook, recalc_file, validate_file
