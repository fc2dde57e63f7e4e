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
    height, width = sheet_extent(xml, limit)
    if height * width > limit:
        raise UnreadableWorkbook(str(path), _(
            "sheet '{sheet}' is larger than the limit of {limit} cells ({rows} rows × {columns} "
            "columns)").format(sheet=name, limit=f"{limit:,}", rows=f"{height:,}",
                               columns=f"{width:,}"))


_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]+)"')
# an ``r`` attribute spelled as this module's fast path does not expect: single quotes, spaces
# around "=", anything but upper-case letters and digits in the value (lower case, "$",
# character references, spaces), four letters or more (one literal first: a fast scan)
_ODD_REF = re.compile(rb"""r(?:\s+=|=\s+|\s*=\s*'|="[^"]*?[^A-Z0-9"]|="[A-Z]{4})""")
_NAME_CHAR = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:.-")


def _odd_refs(xml: bytes) -> bool:
    """Whether an ``r`` attribute of the sheet is spelled unusually (:data:`_ODD_REF`; the
    ``xmlns:r`` declaration and prefixed attributes such as ``x:r`` are not ``r``)."""
    for m in _ODD_REF.finditer(xml):
        if m.start() == 0 or xml[m.start() - 1] not in _NAME_CHAR:
            return True
    return False


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


def sheet_extent(xml: bytes, limit: int) -> tuple[int, int]:
    """Rows and columns of the grid a sheet's cells span from A1 (an upper bound when that is
    below ``limit`` anyway), read from its XML before any reader builds the grid: a single
    cell at XFD1048576 in a tiny file must not make anyone allocate 17 billion cells, however
    its reference is spelled (``r='XFD1048576'``, ``r = "xfd1048576"``)."""
    if _odd_refs(xml):
        return _exact_extent(xml)
    # each pattern below starts with the literal ``r="`` (the word boundary before the ``r``
    # checked behind it): the regex engine then jumps from one reference to the next instead
    # of trying every byte, several times faster on a large sheet (issue 20)
    rows = [int(r) for r in _ROW_NUMBER.findall(xml)]
    height = max(rows, default=0)
    # a cell may claim a row beyond its <row>: bound it by the number of digits
    digits = len(str(height)) if height else 1
    if re.search(rb'r="(?<!\wr=")[A-Z]{0,3}[0-9]{%d,}"' % (digits + 1), xml) is not None:
        height_bound = 10 ** 7
    else:
        height_bound = 10 ** digits - 1
    width_bound = 26
    for letters in (3, 2):   # the widest column named with three letters, else with two
        named = set(re.findall(rb'r="(?<!\wr=")([A-Z]{%d})[0-9]' % letters, xml))
        if named:
            width_bound = max(column_index(c) for c in named) + 1
            break
    if height_bound * width_bound <= limit:
        return height, width_bound
    # the cheap bound is too coarse: the exact extent, one pass over the cell references
    return _exact_extent(xml)
