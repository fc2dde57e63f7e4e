"""xl-aiindex: build, compute, check and explain composite indices, in Excel and headless.

Public API::

    from xl_aiindex import load_workbook, build_index
    loaded = load_workbook("workbooks/city_ai_index_2020.xlsx")
    result = build_index(loaded.model)
    result.total.sort_values(ascending=False).head()
"""

__version__ = "0.1.0"

from .errors import (  # noqa: E402
    Problem,
    ProblemsFound,
    UnknownMethodError,
    UnreadableWorkbook,
    UnsafeWrite,
    XlAiIndexError,
)
from .fit import WeightFit, fit_weights  # noqa: E402
from .model import IndexModel, IndexResult, Node, Settings, TierRule  # noqa: E402
from .pipeline import build_index, check_model  # noqa: E402
from .workbook.io import load_workbook, recalc_file, validate_file  # noqa: E402

__all__ = [
    "IndexModel", "IndexResult", "Node", "Problem", "ProblemsFound", "Settings", "TierRule",
    "UnknownMethodError", "UnreadableWorkbook", "UnsafeWrite", "WeightFit", "XlAiIndexError",
    "__version__", "build_index", "check_model", "fit_weights", "load_workbook", "recalc_file",
    "validate_file",
]
