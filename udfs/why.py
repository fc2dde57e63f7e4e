"""Why a cell shows an error: the reason behind each ``#N/A``/``#VALUE!`` an ``AI_…`` call gave.

A failed call answers with a text marked ``#AI! …`` (:mod:`udfs.answers`); the VBA wrapper in
the workbook turns that marked text into a real Excel error (``CVErr``), so ``IFERROR``,
``ISERROR`` and ``IFNA`` see an error, exactly as with Excel's own functions. The text itself is
kept here, per calling cell, and ``=AI_WHY(C5)`` shows it. Which error a text becomes is decided
by :func:`error_code` (the VBA wrapper applies the same rule; a test checks they agree):

* ``#N/A`` for a name that matches no unit or node (``#AI! unknown city …``), as lookups do;
* the argument's own error for an error cell passed in (``=AI_INDEX(A1)`` with ``#DIV/0!`` in
  A1 gives ``#DIV/0!``), as Excel's functions propagate errors;
* ``#VALUE!`` for everything else (a malformed argument, problems in the inputs…).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any

#: Error values an argument may carry in (``err_to_str``), with their CVErr numbers.
from xl_aiindex.contract import ERROR_CODES
from xl_aiindex.i18n import _

#: What marks a failed call's answer (and what the VBA wrapper looks for).
MARK = "#AI! "
ARGUMENT_ERROR = " is the error value "
#: How many reasons are kept (one per calling cell; the oldest are forgotten first).
LIMIT = 100_000


def error_code(answer: Any) -> str | None:
    """The Excel error a UDF answer stands for (``"#N/A"``, ``"#VALUE!"`` …), None if it is a
    value. Mirrors ``XlAiIndexResult`` in the workbook's VBA."""
    if not isinstance(answer, str) or not answer.startswith(MARK):
        return None
    if answer.startswith(MARK + "unknown "):
        return "#N/A"
    at = answer.find(ARGUMENT_ERROR)
    if at >= 0:
        rest = answer[at + len(ARGUMENT_ERROR):]
        for name in ERROR_CODES:
            if rest.startswith(name):
                return name
    return "#VALUE!"


def reason_of(answer: str) -> str:
    """What ``AI_WHY`` says of an error answer: its message without the mark, and without the
    English tag a message in another language carries for the VBA
    (:class:`udfs.answers.UdfError`)."""
    reason = answer[len(MARK):]
    if reason.startswith("unknown ") and reason[len("unknown "):][:1] > "\x7f":
        reason = reason[len("unknown "):]
    tag = re.search(r" \[" + re.escape(ARGUMENT_ERROR) + r"#[^\]]+\]$", reason)
    return reason[:tag.start()] if tag else reason


def cell_key(caller: Any) -> str | None:
    """``book|sheet|$C$5`` for a calling Excel cell (an xlwings Range); None otherwise (a call
    from Python names no cell)."""
    sheet = getattr(caller, "sheet", None)
    address = getattr(caller, "address", None)
    if sheet is None or address is None:
        return None
    try:
        book = sheet.book
        where = str(getattr(book, "fullname", None) or book.name)
        return f"{where}|{sheet.name}|{address}"
    except Exception:  # a closing workbook: no key, no record
        return None


class ErrorLog:
    """The last error text per calling cell (bounded), for ``AI_WHY``."""

    def __init__(self, limit: int = LIMIT):
        self.limit = limit
        self._reasons: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def note(self, caller: Any, answer: Any) -> Any:
        """Remember ``answer``'s reason for the calling cell when it is an error (forget it when
        not); returns ``answer`` unchanged."""
        k = cell_key(caller)
        if k is None:
            return answer
        with self._lock:
            if error_code(answer) is not None:
                self._reasons[k] = reason_of(answer)
                self._reasons.move_to_end(k)
                while len(self._reasons) > self.limit:
                    self._reasons.popitem(last=False)
            else:
                self._reasons.pop(k, None)
        return answer

    def reason(self, cell: Any) -> str:
        """Why the ``AI_…`` call in ``cell`` (an xlwings Range) failed; a sentence saying there
        is nothing to explain when it did not."""
        k = cell_key(cell)
        if k is None:
            return _("give AI_WHY a reference to one cell, e.g. =AI_WHY(C5)")
        with self._lock:
            why = self._reasons.get(k)
        if why is not None:
            return why
        return _("no xl-aiindex error in {cell} (recalculate with F9 if it shows one)").format(
            cell=k.split("|", 1)[1].replace("|", "!"))

    def clear(self) -> None:
        """Forget every reason."""
        with self._lock:
            self._reasons.clear()


#: The log the UDFs share (one per Python process: Excel's UDF server).
ERRORS = ErrorLog()
