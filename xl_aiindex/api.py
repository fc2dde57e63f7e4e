"""The Python API: one function per ``xl-aiindex`` command, as sqlite-utils' CLI is one
library call per command.

Each function takes paths and options as keyword arguments, does the whole job (reads the
workbook, computes, builds the tables, writes through the one write path) and returns a small
frozen dataclass with what the command prints. None prints. ``docs/python-api.md`` lists them
with their parameters::

    from xl_aiindex import api
    done = api.recalc("workbooks/city_ai_index_2020.xlsx", output="out.xlsx")
    done.top[0].unit, done.top[0].score          # ('beijing', 92.93…)

Importing this module is cheap: pandas and the workbook layer load when a function runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import EXIT_OK, EXIT_PROBLEMS, EXIT_UNREADABLE, error_kind, exit_code
from .lazy import lazy_names

# each command's module is imported when its function is first asked for (PEP 562): a run
# of one command does not pay for the others' (issue 20: start-up)
if TYPE_CHECKING:
    from .commands.audit import Audited, AuditGroup, audit
    from .commands.check import check
    from .commands.compare import ComparedNode, Comparison, compare
    from .commands.compare_editions import EditionsCompared, compare_editions
    from .commands.excel import ExcelWorkbook, excel
    from .commands.excel_lite import LiteWorkbook, excel_lite
    from .commands.explain import Explanation, Loss, explain
    from .commands.export import Exported, export
    from .commands.fit_weights import fit_json, fit_weights
    from .commands.new_workbook import NewWorkbook, new_workbook
    from .commands.recalc import RankedUnit, Recalculated, recalc
    from .commands.report import Report, report
    from .commands.standing import Standing
    from .commands.uncertainty import UncertaintyRun, uncertainty
    from .commands.validate import Validated, validate
    from .commands.weights import WeightMethods, weights

#: the module (under ``xl_aiindex.commands``) of each name exported here
_HOMES = {
    **dict.fromkeys(("Audited", "AuditGroup", "audit"), "audit"),
    **dict.fromkeys(("check",), "check"),
    **dict.fromkeys(("ComparedNode", "Comparison", "compare"), "compare"),
    **dict.fromkeys(("EditionsCompared", "compare_editions"), "compare_editions"),
    **dict.fromkeys(("ExcelWorkbook", "excel"), "excel"),
    **dict.fromkeys(("LiteWorkbook", "excel_lite"), "excel_lite"),
    **dict.fromkeys(("Explanation", "Loss", "explain"), "explain"),
    **dict.fromkeys(("Exported", "export"), "export"),
    **dict.fromkeys(("fit_json", "fit_weights"), "fit_weights"),
    **dict.fromkeys(("NewWorkbook", "new_workbook"), "new_workbook"),
    **dict.fromkeys(("RankedUnit", "Recalculated", "recalc"), "recalc"),
    **dict.fromkeys(("Report", "report"), "report"),
    **dict.fromkeys(("Standing",), "standing"),
    **dict.fromkeys(("UncertaintyRun", "uncertainty"), "uncertainty"),
    **dict.fromkeys(("Validated", "validate"), "validate"),
    **dict.fromkeys(("WeightMethods", "weights"), "weights"),
}


#: A command's function or result class, its module imported on first use.
__getattr__ = lazy_names(__name__, _HOMES, ".commands.{}", __package__)


__all__ = [
    "EXIT_OK", "EXIT_PROBLEMS", "EXIT_UNREADABLE", "AuditGroup", "Audited", "ComparedNode",
    "Comparison", "EditionsCompared", "ExcelWorkbook", "Explanation", "Exported", "LiteWorkbook", "Loss",
    "NewWorkbook", "RankedUnit", "Recalculated", "Report", "Standing", "UncertaintyRun",
    "Validated", "WeightMethods", "audit", "check", "compare", "compare_editions",
    "error_kind", "excel", "excel_lite", "exit_code", "explain", "export", "fit_json",
    "fit_weights", "new_workbook",
    "recalc", "report", "uncertainty", "validate", "weights",
]
