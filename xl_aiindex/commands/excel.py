"""``xl-aiindex excel``: a macro-enabled workbook for Excel, with the AI_* functions."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..errors import Problem


@dataclass(frozen=True)
class ExcelWorkbook:
    """The macro-enabled workbook :func:`excel` wrote: its ``path``, the number of
    ``functions`` and ``macros`` in its VBA project, the ``xlwings`` version it was built for,
    and the inputs' ``problems`` when they do not compute yet (its functions show results once
    they are fixed)."""

    path: Path
    functions: int
    macros: int
    xlwings: str
    problems: tuple[Problem, ...]


def excel(book: str | os.PathLike[str], *, output: str | os.PathLike[str] | None = None,
          force: bool = False, interpreter_win: str | None = None) -> ExcelWorkbook:
    """Turn a workbook of the contract into a macro-enabled workbook for Excel: the AI_*
    functions and the Rebuild/Validate macros in its VBA project (xlwings standalone), an
    xlwings.conf sheet, an Examples sheet for its units and nodes, and buttons.

    :param book: the workbook to read
    :param output: the ``.xlsm`` to write (default: ``book`` with the suffix ``.xlsm``)
    :param force: overwrite ``output`` if it exists, and replace an Examples or xlwings.conf
        sheet of ``book`` that the tool did not write
    :param interpreter_win: the Python (Windows) to pin in the xlwings.conf sheet (default: the
        one the xlwings add-in or its config file names)

    Returns an :class:`ExcelWorkbook`. Raises :class:`~xl_aiindex.errors.UnsafeWrite` (an
    output not named ``.xlsm``, existing without ``force``, open, read-only),
    :class:`~xl_aiindex.errors.UnreadableWorkbook` (no such file, not a workbook),
    :class:`~xl_aiindex.errors.ProblemsFound` (inputs that cannot even be read; a sheet the
    tool did not write).
    """
    from ..errors import UnreadableWorkbook, UnsafeWrite
    from ..i18n import _
    from ..workbook.excel_vba import xlwings_version
    from ..workbook.xlsm import MACROS, build_excel, udf_names

    source = Path(book)
    out = Path(output) if output is not None else source.with_suffix(".xlsm")
    if out.suffix.lower() != ".xlsm":
        raise UnsafeWrite(_("{path}: a macro-enabled workbook must end in .xlsm").format(path=out))
    if not source.is_file():
        raise UnreadableWorkbook(str(source), _("no such file"))
    if out.exists() and not force:
        raise UnsafeWrite(_("{path} exists: use --force to overwrite it, or write to another "
                            "file").format(path=out))
    built = build_excel(source, out, interpreter_win=interpreter_win, force=force)
    return ExcelWorkbook(path=out, functions=len(udf_names()), macros=len(MACROS),
                         xlwings=xlwings_version(), problems=tuple(built.problems))
