"""Which workbook a UDF or macro works on: the calling Excel book, or a file (headless).

:class:`HeadlessBook` is the file-based implementation of
:class:`~xl_aiindex.workbook.xlwings_book.MacroBook`: it reads with
:class:`~xl_aiindex.workbook.source.OpenpyxlSource` and writes with
:func:`xl_aiindex.workbook.io.write_sheets` (atomic, the writer ``xl-aiindex recalc`` uses), so the
macros and UDFs run unchanged without Excel. In Excel the book is an
:class:`~xl_aiindex.workbook.xlwings_book.XlwingsBook` around the caller's workbook.

>>> from udfs import AI_INDEX, use_book                                      # doctest: +SKIP
>>> with use_book("workbooks/city_ai_index_2020.xlsx"):                       # doctest: +SKIP
...     AI_INDEX("北京")
92.9285
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from xl_aiindex.contract import key
from xl_aiindex.errors import UnreadableWorkbook, UnsafeWrite, XlAiIndexError
from xl_aiindex.i18n import _
from xl_aiindex.workbook.io import excel_owner_file, write_sheets
from xl_aiindex.workbook.ooxml import RowAppend
from xl_aiindex.workbook.package import Package
from xl_aiindex.workbook.sheetspec import SheetSpec
from xl_aiindex.workbook.source import Grid, OpenpyxlSource
from xl_aiindex.workbook.xlwings_book import MacroBook, XlwingsBook


class HeadlessBook:
    """A workbook file, read with openpyxl and written atomically with ``io.write_sheets``.

    ``path``: the workbook read. ``out``: where :meth:`write_sheets` writes (default: ``path``
    itself, refused — as by ``xl-aiindex recalc`` — while Excel has the file open). The writer
    is ``recalc``'s surgical one: every part but the written sheets (VBA project, buttons,
    drawings) is kept byte for byte.
    The file is re-opened whenever it changed on disk, so an edit shows in the next read.
    ``messages`` collects what a macro tells the user, as ``(level, text)``.
    """

    def __init__(self, path: str | os.PathLike[str], out: str | os.PathLike[str] | None = None):
        self.path = Path(path)
        self.out = Path(out) if out is not None else self.path
        self.messages: list[tuple[str, str]] = []
        self.activated: str | None = None
        self._source: OpenpyxlSource | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._written = False

    @property
    def key(self) -> str:
        """``file:`` and the resolved path."""
        return "file:" + str(self.path.resolve())

    @property
    def name(self) -> str:
        """The file name."""
        return self.path.name

    def _open(self) -> OpenpyxlSource:
        st = self.path.stat() if self.path.exists() else None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino) if st else (0, 0, 0)
        if self._source is None or stamp != self._stamp:
            self.close()
            self._source = OpenpyxlSource(self.path)
            self._stamp = stamp
        return self._source

    def sheet_names(self) -> list[str]:
        """Sheet names in workbook order."""
        return self._open().sheet_names()

    def grid(self, name: str) -> Grid:
        """Values and formula positions of sheet ``name``."""
        return self._open().grid(name)

    def sheet_kinds(self) -> dict[str, str]:
        """Each sheet's kind by name, as ``recalc`` reads them
        (:meth:`~xl_aiindex.workbook.package.Package.kinds`): a chart sheet under a result
        sheet's name is refused before anything is written. Empty when the package cannot be
        read (reading the sheets then says why)."""
        try:
            with Package(self.path) as package:
                return package.kinds()
        except (UnreadableWorkbook, ValueError, KeyError, OSError, zipfile.BadZipFile,
                ParseError):
            return {}

    def write_sheets(self, sheets: Sequence[SheetSpec], activate: str | None = None,
                     very_hidden: Sequence[str] = (), appends: Sequence[RowAppend] = ()
                     ) -> None:
        """Write ``sheets`` into ``out`` (a copy of ``path``, or of ``out`` once written) and
        append the rows of ``appends`` in place (the Log: its other rows, columns, comments
        and formulas kept byte for byte); those named in ``very_hidden`` that the workbook
        does not have yet are added very hidden."""
        src = self.out if self._written else self.path
        if self.out.resolve() == src.resolve():
            owner = excel_owner_file(src)
            if owner is not None:
                raise UnsafeWrite(_("{path}: the workbook seems open in Excel ({owner} exists): "
                                    "close it in Excel, or run the macro from Excel").format(
                                        path=src, owner=owner.name))
            self.close()  # release the file before it is replaced (Windows)
        present = {key(n) for n in self.sheet_names()}
        write_sheets(src, self.out, list(sheets),
                     very_hidden=[n for n in very_hidden if key(n) not in present],
                     appends=list(appends))
        self._written = True
        self.activated = activate

    def notify(self, message: str, level: str = "info") -> None:
        """Record the message (a headless run has nobody to show it to)."""
        self.messages.append((level, message))

    def close(self) -> None:
        """Release the file handles."""
        if self._source is not None:
            self._source.close()
            self._source = None
            self._stamp = None


class NoBook(XlAiIndexError):
    """A UDF was called from Python without a workbook."""


_default: list[MacroBook] = []
_by_path: dict[str, HeadlessBook] = {}


@contextlib.contextmanager
def use_book(book: MacroBook | str | os.PathLike[str]) -> Iterator[MacroBook]:
    """Make ``book`` (a book, or a workbook path) the one UDFs called without ``caller`` read.

    >>> with use_book("workbooks/city_ai_index_2020.xlsx"):                   # doctest: +SKIP
    ...     AI_RANK("Shanghai")
    2
    """
    resolved = as_book(book)
    _default.append(resolved)
    try:
        yield resolved
    finally:
        _default.remove(resolved)


def _is_book(obj: Any) -> bool:
    return all(hasattr(obj, a) for a in ("sheet_names", "grid", "write_sheets", "key"))


def as_book(obj: Any) -> MacroBook:
    """The :class:`MacroBook` for ``obj``: a book as is; a path → :class:`HeadlessBook` (one per
    path, so its cache entry is reused); an ``xlwings.Book`` → :class:`XlwingsBook`."""
    if _is_book(obj):
        return obj  # type: ignore[no-any-return]
    if isinstance(obj, str | os.PathLike):
        key = str(Path(obj).resolve())
        if key not in _by_path:
            _by_path[key] = HeadlessBook(obj)
        return _by_path[key]
    if hasattr(obj, "sheets") and hasattr(obj, "fullname"):
        return XlwingsBook(obj)
    raise TypeError(f"not a workbook: {type(obj).__name__}")


def book_of_caller(caller: Any) -> MacroBook:
    """The workbook a UDF reads: the book of the calling Excel range, else the one set by
    :func:`use_book` (or a book/path passed as ``caller`` in Python)."""
    if caller is None:
        if not _default:
            raise NoBook(_("no workbook: call from Excel, or set one with "
                           "udfs.use_book(PATH)"))
        return _default[-1]
    sheet = getattr(caller, "sheet", None)
    if sheet is not None and not _is_book(caller):
        return XlwingsBook(sheet.book)
    return as_book(caller)


def book_of_macro(book: Any) -> MacroBook:
    """The workbook a macro works on: ``None`` → the calling Excel book (``xw.Book.caller()``)."""
    if book is None:
        try:
            return XlwingsBook.caller()
        except Exception as e:  # not called from Excel
            raise XlAiIndexError(_(
                "this macro works on the Excel workbook that runs it (a button, Alt+F8 or "
                "RunPython); from Python, pass a workbook: rebuild_results('book.xlsx') or "
                "rebuild_results(HeadlessBook(src, out)) ({kind}: {error})").format(
                    kind=type(e).__name__, error=e)) from e
    return as_book(book)
