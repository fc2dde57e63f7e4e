"""What a reader gives for one sheet (:class:`Grid`), the interface of a reader
(:class:`BookSource`), and the size limit every reader checks before it builds a grid.

The readers (:mod:`~xl_aiindex.workbook.calamine_source`, :mod:`~xl_aiindex.workbook.source`,
the Excel side in ``udfs``) import from here and from :mod:`~xl_aiindex.workbook.package`;
nothing here imports a reader.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Protocol

import numpy as np

# defined by the contract; the readers look MAX_SHEET_CELLS up here at call time (tests lower it)
from ..contract import ERROR_VALUES, MAX_SHEET_CELLS  # noqa: F401 (re-exported)
from ..errors import UnreadableWorkbook
from ..i18n import _
from .cells import column_index


@dataclass
class Grid:
    """One sheet as read: ``values[r][c]`` (0-based; row 0 is the header row), the set of
    ``(r, c)`` cells that hold a formula (whose value is the cached one, None if never computed)
    and the merged ranges (``"B3:C3"``) of the sheet."""

    name: str
    values: list[list[Any]]
    formulas: set[tuple[int, int]] = field(default_factory=set)
    merged: list[str] = field(default_factory=list)


class BookSource(Protocol):
    """What the reader needs from a workbook."""

    def sheet_names(self) -> list[str]:
        """Sheet names in workbook order."""
        ...

    def grid(self, name: str) -> Grid:
        """The cells of sheet ``name`` (an exact name from :meth:`sheet_names`)."""
        ...


def check_extent(path: str | os.PathLike[str], name: str, xml: bytes) -> None:
    """Refuse sheet ``name`` of the workbook at ``path`` (its XML ``xml``, UTF-8) when the grid
    its cells span from A1 (:func:`sheet_extent`) exceeds :data:`MAX_SHEET_CELLS`: what every
    reader checks before it builds a grid."""
    limit = MAX_SHEET_CELLS
    height, width = sheet_extent(xml)
    if height * width > limit:
        raise UnreadableWorkbook(str(path), _(
            "sheet '{sheet}' is larger than the limit of {limit} cells ({rows} rows × {columns} "
            "columns)").format(sheet=name, limit=f"{limit:,}", rows=f"{height:,}",
                               columns=f"{width:,}"))


# an ``r`` attribute with spaces before its "=" (the vectorised scan asks this at each "r"
# followed by a space, and leaves the sheet to the exact scan when it matches)
_SPACED_REF = re.compile(rb"r\s+=")
_NAME_CHAR = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:.-")


# every ``r`` attribute as an XML parser reads it (either quote, spaces around "="; not the
# ``xmlns:r`` declaration nor another prefix's ``r``)
_ANY_R = re.compile(rb"""(?<![\w:.-])r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF_PARTS = re.compile(r"\s*\$?([A-Za-z]*)\$?([0-9]*)")
_CHAR_REF = re.compile(r"&#(x[0-9A-Fa-f]+|[0-9]+);")


def _xml_unescape(value: str) -> str:
    """An attribute value as the XML parser gives it (character and the five entity references
    decoded)."""
    value = _CHAR_REF.sub(lambda m: chr(int(m.group(1)[1:], 16) if m.group(1)[0] == "x"
                                        else int(m.group(1))), value)
    return (value.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


# the letters and digits of every ``r`` attribute (the literal first, then the check that it
# is not ``xmlns:r`` or ``x:r``: a fast scan)
_R_PARTS = re.compile(rb"""r(?<![\w:.-]r)\s*=\s*["']\s*\$?([A-Za-z]*)\$?([0-9]*)""")
_R_ENTITY = re.compile(rb"""r(?<![\w:.-]r)\s*=\s*(?:"[^"&]*&|'[^'&]*&)""")


def _exact_extent(xml: bytes) -> tuple[int, int]:
    """Rows and columns spanned by every ``r`` attribute of the sheet, read as an XML parser
    and python-calamine read them (either quote, spaces around ``=``, letters of either case,
    character references)."""
    letters: set[str] = set()
    digits: set[str] = set()
    if _R_ENTITY.search(xml) is not None:
        for m in _ANY_R.finditer(xml):
            raw = m.group(1) if m.group(1) is not None else m.group(2)
            parts = _REF_PARTS.match(_xml_unescape(raw.decode("utf-8", "replace")))
            if parts is not None:
                letters.add(parts.group(1))
                digits.add(parts.group(2))
    else:
        pairs = _R_PARTS.findall(xml)
        letters = {a.decode() for a in set(map(itemgetter(0), pairs))}
        digits = {d.decode() for d in set(map(itemgetter(1), pairs))}
    height = max((int(d[:12]) for d in digits if d), default=0)
    width = max((column_index(a.upper()[:12]) + 1 for a in letters if a), default=0)
    return height, width


def sheet_extent(xml: bytes) -> tuple[int, int]:
    """Rows and columns of the grid a sheet's cells span from A1, read from its XML before any
    reader builds the grid: a single cell at XFD1048576 in a tiny file must not make anyone
    allocate 17 billion cells, however its reference is spelled (``r='XFD1048576'``,
    ``r = "xfd1048576"``)."""
    fast = _plain_extent(xml)
    return fast if fast is not None else _exact_extent(xml)


#: Bytes of an XML name (a byte before an ``r`` that is one makes it ``xr``, ``x:r``…).
_IS_NAME = np.zeros(256, dtype=bool)
_IS_NAME[list(_NAME_CHAR)] = True
_IS_SPACE = np.zeros(256, dtype=bool)
_IS_SPACE[list(b" \t\r\n\x0b\x0c")] = True   # what a regular expression calls space
#: Bytes of a reference looked at (``r="`` excluded): three letters, digits and the quote fit.
_WINDOW = 16
#: References looked at a time (memory bounded whatever the sheet's size).
_REFS_AT_ONCE = 65_536


def _plain_extent(xml: bytes) -> tuple[int, int] | None:
    """The extent every ``r`` attribute spans when each is spelled plainly, ``r="B12"``
    (double quotes, no spaces around ``=``, one to three upper-case letters or none, digits),
    as Excel, LibreOffice and the libraries write them; None when one is not, or when an ``r``
    followed by a space could be the start of one (the exact scan then decides). Vectorised
    (issue 20: the regular-expression scans it replaced cost as much as reading the sheet): the
    positions of ``r=`` are found at once and the references read a block at a time."""
    a = np.frombuffer(xml, dtype=np.uint8)
    n = a.size
    if n < 4:
        return None
    r = np.flatnonzero(a[:-2] == ord("r"))
    # an "r" after a name byte is part of another name (xr=, x:r=, the "r" of "<row")
    r = r[(r == 0) | ~_IS_NAME[a[r - 1]]]
    after = a[r + 1]
    spaced = r[_IS_SPACE[after]]
    if any(_SPACED_REF.match(xml, int(p)) is not None for p in spaced.tolist()):
        return None
    eq = r[after == ord("=")]
    if eq.size and not (a[eq + 2] == ord('"')).all():
        return None                      # r='…', r= "…" or worse
    padded = np.concatenate([a, np.zeros(_WINDOW + 3, dtype=np.uint8)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, _WINDOW)
    positions = np.arange(_WINDOW)
    height = width = 0
    for lo in range(0, eq.size, _REFS_AT_ONCE):
        starts = eq[lo:lo + _REFS_AT_ONCE] + 3                 # the bytes after r="
        w = windows[starts]
        length = (w == ord('"')).argmax(axis=1)                # where the value ends
        if not (w[np.arange(len(w)), length] == ord('"')).all():
            return None                  # longer than any plain reference
        letters = ((w < ord("A")) | (w > ord("Z"))).argmax(axis=1)   # leading A-Z
        digits = (positions >= letters[:, None]) & (positions < length[:, None])
        if letters.max() > 3 or (digits & ((w < ord("0")) | (w > ord("9")))).any():
            return None
        # the largest row and column are among the longest numbers and letter runs
        n_digits = length - letters
        most = int(n_digits.max())
        if most > 12:
            return None                  # a row number no sheet has: the exact scan reads it
        if most:
            longest = starts[n_digits == most] + letters[n_digits == most]
            number = (windows[longest][:, :most] - ord("0")).astype(np.int64)
            height = max(height, int((number @ 10 ** np.arange(most - 1, -1, -1)).max()))
        most = int(letters.max())
        if most:
            name = (w[letters == most][:, :most] - (ord("A") - 1)).astype(np.int64)
            width = max(width, int((name @ 26 ** np.arange(most - 1, -1, -1)).max()))
    return height, width
