"""One engine run per change of the inputs, however many cells ask.

Excel calls a UDF once per cell: a recalculation of a sheet with 200 ``=AI_…`` cells is 200 calls
in a row (a *burst*). :class:`ResultCache` keeps, per workbook (:attr:`MacroBook.key`), the outcome
of the last build and a fingerprint of the inputs it was built from:

* **Within one calculation** a call reads nothing: it answers from the cached outcome. 200 calls
  cost one read of the inputs and at most one engine run, however long the calculation takes.
  A calculation is recognised by the calling cells (xlwings passes each call's cell): Excel calls
  each cell once per calculation, so **a cell calling a second time starts a new calculation**;
  so does a pause of more than :attr:`ResultCache.window` seconds (0.5 s, timed by an injectable
  clock) since the previous call, which is also the only rule for calls from Python, which name
  no cell. Wall time since the read plays no part: a 30-second recalculation of 10,000 cells
  reads the inputs once.
* **At the next calculation** the input sheets are read again and fingerprinted (a hash of the sheet
  names and of the values and formula positions of every sheet the reader used last time:
  Settings, Framework, Units, Data, Given, AHP_*, Budget_*). Same fingerprint → the cached outcome;
  any difference (a raw value, a weight, a method name, a new AHP_ sheet) → one fresh build.
* Problems and unreadable workbooks are cached the same way, so 200 cells showing ``#AI! …`` do
  not re-validate 200 times.

An edit always starts a new calculation in Excel, whose cells call again, so it is seen even
when a macro writes input cells one by one with automatic calculation on.
:meth:`ResultCache.invalidate` drops a book's entry; the macros read with ``fresh=True`` and
leave their result in the cache for the UDFs.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xl_aiindex.workbook.answers import Outcome, evaluate, table_rows  # noqa: F401 (re-exported)
from xl_aiindex.workbook.ownership import is_tool_sheet
from xl_aiindex.workbook.source import Grid
from xl_aiindex.workbook.xlwings_book import MacroBook

#: A pause between two calls longer than this (seconds) ends a calculation.
WINDOW = 0.5


class Snapshot:
    """A book's sheets as read in one burst: each sheet read from the book at most once."""

    def __init__(self, book: MacroBook):
        self.book = book
        self._names: list[str] | None = None
        self.grids: dict[str, Grid] = {}
        self.order: list[str] = []

    def sheet_names(self) -> list[str]:
        """Sheet names in workbook order (read once)."""
        if self._names is None:
            self._names = list(self.book.sheet_names())
        return self._names

    def grid(self, name: str) -> Grid:
        """Sheet ``name`` (read once)."""
        if name not in self.grids:
            self.grids[name] = self.book.grid(name)
            self.order.append(name)
        return self.grids[name]

    def fingerprint(self, sheets: Sequence[str]) -> str:
        """Hash of the input sheets' names and of the contents of ``sheets``. The sheets the
        tool writes (Problems, Log, the result sheets) are left out: a macro that writes them
        has not changed the inputs.

        Not :func:`xl_aiindex.staleness.inputs_hash`, on purpose: that one hashes the *model*
        (what ``recalc --check`` compares across processes and readers, kept in the Log), so
        it needs the inputs read and free of problems; this one hashes the *raw cells* as this
        book's reader gives them, before any reading, so an unchanged book is recognised
        without parsing it, also when its inputs have problems (then no model exists). It
        lives only in this process's cache.
        """
        names = [n for n in self.sheet_names() if not is_tool_sheet(n)]
        h = hashlib.sha256(repr(names).encode())
        for name in sheets:
            g = self.grid(name)
            h.update(repr((name, g.values, sorted(g.formulas), g.merged)).encode())
        return h.hexdigest()


@dataclass
class _Entry:
    fingerprint: str
    sheets: tuple[str, ...]
    outcome: Outcome
    last_call: float
    cells: set[str]


class ResultCache:
    """Outcomes per workbook, rebuilt only when the inputs' fingerprint changes (see module doc).

    ``clock``: seconds, monotonic (injectable for tests); ``window``: the pause that ends a
    calculation, in seconds.
    ``builds`` counts the engine runs, ``reads`` the times the inputs were read.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, window: float = WINDOW):
        self.clock = clock
        self.window = window
        self.builds = 0
        self.reads = 0
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.RLock()

    def outcome(self, book: MacroBook, fresh: bool = False, cell: str | None = None) -> Outcome:
        """The outcome for ``book``'s current inputs; ``cell`` identifies the calling cell (None
        from Python); ``fresh``: read the inputs now, whatever the calculation."""
        key = book.key
        with self._lock:
            now = self.clock()
            entry = self._entries.get(key)
            if entry is not None and not fresh and self._same_calculation(entry, now, cell):
                entry.last_call = now
                if cell is not None:
                    entry.cells.add(cell)
                return entry.outcome
            snap = Snapshot(book)
            self.reads += 1
            if entry is not None:
                try:
                    same = snap.fingerprint(entry.sheets) == entry.fingerprint
                except Exception:  # a sheet it read is gone or unreadable: rebuild
                    same = False
                if same:
                    entry.last_call = now
                    entry.cells = {cell} if cell is not None else set()
                    return entry.outcome
            try:
                outcome = evaluate(snap)
            finally:
                self.builds += 1
            sheets = tuple(snap.order)
            try:
                fingerprint = snap.fingerprint(sheets)
            except Exception:  # unreadable now: never matches, so the next burst tries again
                fingerprint = ""
            self._entries[key] = _Entry(fingerprint, sheets, outcome, now,
                                        {cell} if cell is not None else set())
            return outcome

    def _same_calculation(self, entry: _Entry, now: float, cell: str | None) -> bool:
        """Whether a call at ``now`` from ``cell`` belongs to the calculation ``entry`` was read
        for: no long pause since the previous call, and not a cell that has already called."""
        if not 0 <= now - entry.last_call < self.window:
            return False
        return cell is None or cell not in entry.cells

    def invalidate(self, book: MacroBook | None = None) -> None:
        """Forget ``book``'s outcome (every book's when None)."""
        with self._lock:
            if book is None:
                self._entries.clear()
            else:
                self._entries.pop(book.key, None)


#: The cache the UDFs and macros share (one per Python process: Excel's UDF server).
CACHE = ResultCache()
