"""Sheets appended to a macro-enabled workbook get a VBA code name and a document module.

Excel keeps one document module per worksheet (``Sheet1``…, bound to the sheet by
``<sheetPr codeName>``); a sheet the splice appends (``Charts`` or ``Compare`` added by
``recalc``, the very hidden store) gets the same: the lowest free ``SheetN``, and an empty
document module of that name in ``xl/vbaProject.bin``
(:func:`~xl_aiindex.workbook.vba_project.with_document_modules`: every module's source kept).
A project that cannot be written again without loss (a form, another library's reference,
conditional compilation constants, descriptions or help files, a password) or cannot be read
is left byte for byte as it is, and the appended sheets then carry no code name, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .jobs import _SheetJob

if TYPE_CHECKING:
    from .plan import _Book

RT_VBA_PROJECT = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"


def _free_names(taken: set[str], count: int) -> list[str]:
    """``count`` code names ``SheetN`` not in ``taken`` (folded), the lowest first."""
    names: list[str] = []
    n = 1
    while len(names) < count:
        if f"sheet{n}" not in taken:
            names.append(f"Sheet{n}")
        n += 1
    return names


def add_sheet_modules(book: _Book, new_jobs: Sequence[_SheetJob], taken_code_names: set[str],
                      rewritten: dict[str, bytes | None]) -> None:
    """Give each appended sheet of ``new_jobs`` a code name and its module, the rewritten
    project going to ``rewritten``; ``taken_code_names``: the existing sheets' code names
    (folded). Nothing changes in a workbook without a VBA project."""
    rel = next((r for r in book.wb_rels.values() if r.type == RT_VBA_PROJECT), None)
    part = None if rel is None else book.pkg.resolve(book.wb_part, rel)
    if not new_jobs or part is None or part not in book.zin.namelist():
        return
    # imported here: recalc of a workbook without macros never loads the VBA writer
    from ..vba_project import read_project, with_document_modules

    data = book.zin.read(part)
    try:
        taken = {n.casefold() for n in read_project(data).sources} | taken_code_names
        names = _free_names(taken, len(new_jobs))
        project = with_document_modules(data, names)
    except Exception:  # noqa: BLE001 - olefile and the stream readers raise many kinds: a
        return         # damaged project is left as it is, as any part the splice does not own
    if project is None:
        return
    for job, name in zip(new_jobs, names, strict=True):
        job.code_name = name
    rewritten[part] = project
