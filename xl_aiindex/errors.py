"""Problems and exceptions.

Every check collects :class:`Problem` records (as pandera's lazy validation does) and the caller
raises :class:`ProblemsFound` once with all of them, so an analyst sees every bad cell in one run.
The engine knows units and nodes but not cells: it fills ``sheet``, ``unit``, ``node`` and
``field``; the workbook layer, which knows where each value came from, adds the ``cell``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .i18n import _, ngettext

_LINE_BREAKS = re.compile("\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` on one line: each line break (as ``str.splitlines`` knows them; a cell typed
    with Alt+Enter has them) shown as ``↵``, so a listing stays one problem per line; other
    control characters (a terminal's escape sequences) shown escaped, as ``\\x1b``.

    >>> one_line("x1\\ny")
    'x1↵y'
    """
    text = _LINE_BREAKS.sub("\u21b5", text)
    if _CONTROLS.search(text):
        text = _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                             else f"\\u{ord(m.group()):04x}", text)
    return text


#: Characters a terminal acts on instead of showing (escape sequences, OSC clipboard writes,
#: bidirectional overrides): printed as ``\x1b``, ``\u202e``.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


#: :attr:`Problem.kind` of an input value that is missing (a blank Data or Given cell).
MISSING_VALUE = "missing_value"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the inputs, located as precisely as it can be.

    ``sheet``: the input sheet it concerns (``Data``, ``Framework``, ``Settings``...).
    ``cell``: an A1 address (blank when the problem is not one cell's, e.g. a whole column missing).
    ``unit`` / ``node``: the unit id and node id concerned, if any.
    ``field``: the column key (``weight``, ``direction``...) or Settings key, used to find the cell.
    ``problem``: the sentence shown to people; it names the unit, node and what was expected.
    ``kind``: what sort of problem it is when many of one sort are expected (``missing_value``):
    the terminal groups a long list by it (blank: by its wording).

    >>> str(Problem("Data", "D5", "beijing", "I03", "value 'abc' is not a number"))
    "Sheet 'Data', cell D5: value 'abc' is not a number"
    """

    sheet: str
    cell: str = ""
    unit: str = ""
    node: str = ""
    problem: str = ""
    field: str = ""
    #: the year of a panel's row (Data/Given with a ``year`` column), if the problem is one year's
    year: int | None = None
    kind: str = ""

    def __str__(self) -> str:
        if self.sheet and self.cell:
            text = _("Sheet '{sheet}', cell {cell}: {problem}")
        elif self.sheet and self.year is not None:
            text = _("Sheet '{sheet}', year {year}: {problem}")
        elif self.sheet:
            text = _("Sheet '{sheet}': {problem}")
        elif self.cell:
            text = _("Workbook, cell {cell}: {problem}")
        elif self.year is not None:
            text = _("Workbook, year {year}: {problem}")
        else:
            text = _("Workbook: {problem}")
        return one_line(text.format(sheet=self.sheet, cell=self.cell, year=self.year,
                                    problem=self.problem))

    def at(self, cell: str) -> Problem:
        """Return a copy located at ``cell``."""
        return replace(self, cell=cell)


class XlAiIndexError(Exception):
    """Base class of every error xl-aiindex raises on purpose."""


class ProblemsFound(XlAiIndexError):
    """The inputs have problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        count = len(self.problems)
        head = ngettext("{count} problem found:", "{count} problems found:", count).format(
            count=count)
        super().__init__(head + "\n" + "\n".join(str(p) for p in self.problems))


class HandEditsFound(ProblemsFound):
    """Result cells were edited by hand since the last recalc; nothing was written (recalc with
    ``force=True``, ``--force`` on the command line, overwrites them). ``count`` is the number
    of edited cells (``problems`` lists at most the first few, then one line with the rest)."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], count: int):
        super().__init__(problems)
        self.count = count


class UnreadableWorkbook(XlAiIndexError):
    """The file cannot be read as a workbook at all (not a zip, encrypted, missing, locked)."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(_("{path}: {reason}").format(path=path, reason=reason))


class UnknownMethodError(XlAiIndexError):
    """A method name that is not in its registry; ``valid`` lists the registered names."""

    def __init__(self, kind: str, name: str, valid: list[str] | tuple[str, ...]):
        self.kind = kind
        self.name = name
        self.valid = tuple(valid)
        super().__init__(_("unknown {kind} method '{name}'; choose one of: {valid}").format(
            kind=kind, name=name, valid=", ".join(self.valid)))


class UnknownName(XlAiIndexError):
    """No unit (or node) has that id or name; the message suggests the closest ones."""


class AmbiguousName(UnknownName):
    """More than one unit (or node) has that id or name; ``candidates`` are their ids and the
    message lists them (a lookup never picks one silently)."""

    def __init__(self, text: str, candidates: tuple[str, ...]):
        self.candidates = candidates
        super().__init__(text)


class BadArgument(XlAiIndexError):
    """A value given to a command (an option such as ``--samples``) cannot be used with this
    workbook; nothing was computed or written. The command line reports it as one ``Error: …``
    line and exit code 2 (the command line is wrong)."""


class UnsafeWrite(XlAiIndexError):
    """Writing the workbook would lose or overwrite something the user has; nothing was written.

    Its subclasses say why a write did not happen; the command line reports each as one
    ``Error: …`` line and exit code 2.
    """


class WorkbookBusy(UnsafeWrite):
    """Another xl-aiindex holds the workbook's lock (it is writing it); nothing was written."""

    def __init__(self, path: str, waited: float):
        self.path = path
        self.waited = waited
        super().__init__(_("another xl-aiindex is writing {path} (waited {waited} s); try "
                           "again").format(path=path, waited=f"{waited:g}"))


class WriteFailed(UnsafeWrite):
    """The operating system refused the write (disk full, no permission…); nothing was changed."""

    def __init__(self, path: str, reason: str, existed: bool = True, what: str = ""):
        self.path = path
        self.reason = reason
        what = what or _("the workbook")
        outcome = _("{what} was not changed").format(what=what) if existed \
            else _("nothing was written")
        super().__init__(_("{path}: cannot write: {reason}; {outcome}").format(
            path=path, reason=reason, outcome=outcome))


#: Exit codes of the workbook contract (WORKBOOK.md): 0 done; 1 the workbook has problems (each
#: listed); 2 the file cannot be read, a write was refused, or the command line is wrong.
EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_UNREADABLE = 2

#: What each kind of error is, in the order the checks run (a subclass before its base).
#: ``problems``: the inputs have problems (each listed); ``unreadable``: the file cannot be read,
#: a write was refused, or the command line names something that is not there; ``failed``:
#: anything else (an error the tool raised on purpose, or an internal one).
_ERROR_KINDS: tuple[tuple[type[BaseException], str], ...] = (
    (ProblemsFound, "problems"),
    (UnreadableWorkbook, "unreadable"),
    (UnsafeWrite, "unreadable"),
    (UnknownName, "unreadable"),
    (BadArgument, "unreadable"),   # the command line is wrong for this workbook: exit 2
    (XlAiIndexError, "failed"),
    (OSError, "unreadable"),
)

#: The exit code of each kind of error.
_KIND_EXIT = {"problems": EXIT_PROBLEMS, "unreadable": EXIT_UNREADABLE, "failed": EXIT_PROBLEMS}


def error_kind(error: BaseException) -> str:
    """``problems``, ``unreadable`` or ``failed``: what ``error`` means for the workbook it
    concerns (the status ``batch`` records, and through :func:`exit_code` the exit code).

    >>> error_kind(UnsafeWrite("book.xlsx is open in Excel"))
    'unreadable'
    """
    for cls, kind in _ERROR_KINDS:
        if isinstance(error, cls):
            return kind
    return "failed"


def exit_code(error: BaseException) -> int:
    """The command line's exit code for ``error`` (the one map, used by ``cli`` and ``batch``):
    1 for the inputs' problems and other failures, 2 for a file that cannot be read, a refused
    write, an unknown name or another system error.

    >>> exit_code(ProblemsFound([Problem("Data", "D5", problem="value 'abc' is not a number")]))
    1
    """
    return _KIND_EXIT[error_kind(error)]


def unknown_method_problem(
    kind: str, name: str, valid: list[str] | tuple[str, ...], sheet: str, node: str = "", field: str = ""
) -> Problem:
    """A :class:`Problem` for an unknown method name, listing the valid names."""
    if node and sheet == "Framework":
        text = _("unknown {kind} method '{name}' for node {node}; choose one of: {valid}")
    else:
        text = _("unknown {kind} method '{name}'; choose one of: {valid}")
    return Problem(
        sheet=sheet,
        node=node if sheet == "Framework" else "",
        field=field or kind,
        problem=text.format(kind=kind, name=name, node=node, valid=", ".join(valid)),
    )
