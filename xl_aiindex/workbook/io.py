"""What ``validate`` does (:func:`validate_file`), and the old home of the workbook layer's
functions, re-exported so existing imports keep working.

The layer itself: :mod:`~xl_aiindex.workbook.book` (an opened book: :func:`load_workbook`,
:func:`compute`), :mod:`~xl_aiindex.workbook.hand_edits` (cells edited since the last write),
:mod:`~xl_aiindex.workbook.files` (any output file: atomic replace, the lock, refusals) and
:mod:`~xl_aiindex.workbook.writer` (the one write path for workbooks: ownership, hand edits,
fingerprints, splice, one Log row; :func:`recalc_file`).
"""

from __future__ import annotations

import os
import zipfile
from xml.etree.ElementTree import ParseError

from ..contract import STORE_SHEET, key
from ..errors import Problem, ProblemsFound
from ..i18n import _
from ..model import IndexResult
from .book import Loaded, compute, load_workbook, log_table  # noqa: F401  (re-exported)
from .files import (  # noqa: F401  (re-exported: the file layer's old home)
    LOCK_SUFFIX,
    LOCK_WAIT,
    OUTPUT_SUFFIXES,
    TMP_SUFFIX,
    _fsync_folder,
    _is_macro_enabled,
    _os_reason,
    _try_lock,
    _unlock,
    atomic_write,
    check_file,
    check_output,
    excel_owner_file,
    guard_destination,
    lock_path,
    make_folder,
    remove_stale_temps,
    workbook_lock,
)
from .formulas import output_mode, output_sheets, panel_output_mode
from .hand_edits import (  # noqa: F401  (re-exported: the check lived here)
    MAX_LISTED_EDITS,
    _when,
    check_hand_edits,
    current_result_grids,
    hand_edits,
    stale_store,
)
from .source import unreadable_reason
from .writer import (  # noqa: F401  (re-exported: the write path's old home)
    log_append,
    log_row,
    merged_store,
    recalc_file,
    run_time,
    skip_optional_sheets,
    stale_problems,
    store_after,
    write_problems,
    write_sheets,
)


def validate_file(path: str | os.PathLike[str]) -> tuple[IndexResult, tuple[str, ...]]:
    """Check a workbook fully (reading and computing, writing nothing); returns result and notes.

    Checks everything :func:`recalc_file` would refuse too: result sheets that are not the
    tool's (a user's sheet, a chart sheet under a result sheet's name) and result cells edited
    by hand since the last recalc. Raises :class:`ProblemsFound` with every problem, each
    located in its sheet and cell.
    """
    loaded = load_workbook(path)
    result = compute(loaded)
    mode, unavailable = panel_output_mode(result, output_mode(loaded.model.settings.output,
                                                              None))
    results, _written = output_sheets(result, loaded.locator, loaded.path, mode, loaded.sheet_names)
    results = [r for r in results if key(r.name) != key(STORE_SHEET)]
    results, skipped = skip_optional_sheets(loaded, results)   # as recalc: a note each
    stale = stale_problems(loaded.sheet_names)
    problems = write_problems(loaded, [*results, *stale], appended=("Log",))
    problems += [Problem(e.sheet, e.cell, problem=e.message)
                 for e in hand_edits(loaded, [*results, *stale])]
    from .ownership import kind_problems

    # a chart sheet (or another non-worksheet) where a result sheet goes: the splice is moot
    if not kind_problems(loaded.package.kinds(), [*(s.name for s in [*results, *stale]), "Log"]):
        from .ooxml import check_splice

        try:   # what the writer itself would refuse (a table other formulas use…)
            check_splice(loaded.package.filelike(), [*results, *stale],
                         appends=[log_append(loaded, {"time": "", "command": "validate"})])
        except (ValueError, zipfile.BadZipFile, ParseError) as e:
            problems.append(Problem("", problem=unreadable_reason(
                _("the workbook"), e, _("recalc could not rewrite it"))))
    if problems:
        raise ProblemsFound(problems)
    return result, (*loaded.notes, *result.notes, *unavailable, *skipped)
