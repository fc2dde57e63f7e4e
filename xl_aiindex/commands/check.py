"""``xl-aiindex recalc --check``: do a workbook's result sheets still match its inputs?"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..workbook.check import Freshness


def check(book: str | os.PathLike[str]) -> Freshness:
    """Whether the result sheets of ``book`` match its inputs, without computing or writing:
    the hash of the inputs the last recalc recorded is compared with the inputs now, and the
    result sheets it wrote must all be there, unedited.

    :param book: the workbook to read

    Returns a :class:`~xl_aiindex.workbook.check.Freshness`: ``fresh``, or the ``reasons``
    why not (one line each); ``last_run``, and the inputs hash ``logged`` then and
    ``current`` now. Raises :class:`~xl_aiindex.errors.ProblemsFound` or
    :class:`~xl_aiindex.errors.UnreadableWorkbook` when the inputs cannot be read.
    """
    from ..workbook.check import check_file

    return check_file(book)
