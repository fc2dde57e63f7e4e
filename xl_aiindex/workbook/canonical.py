"""Cells as Excel shows them, as the canonical text a fingerprint compares
(:mod:`xl_aiindex.workbook.fingerprint`): numbers to 12 significant digits taken from their
15-digit form, text after the writer's cleaning, a formula as its text, and blank, empty text,
NaN and infinities as nothing. For a SheetSpec (:func:`canonical_spec_cell`,
:func:`spec_blocks`) and for values read back (:func:`canonical_read_value`,
:func:`read_blocks`), a block of rows at a time, a column of numbers formatted at once.
"""

from __future__ import annotations

import decimal
import itertools
import math
import numbers
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from .ooxml import _text as _writer_text  # the writer's text encoding, whatever it does
from .ooxml.xmltext import unescape
from .sheetspec import Cell, ColumnRows, SheetSpec

__all__ = ["Block", "canonical_grid", "canonical_read_value", "canonical_spec_cell",
           "read_blocks", "read_rows", "spec_blocks", "spec_rows"]

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_X_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")


def _decode_escapes(s: str) -> str:
    """Excel's reading of ``_xHHHH_`` escapes (left to right, as openpyxl leaves them)."""
    return _X_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), s) if "_x" in s else s


def _text_as_written(s: str) -> str:
    """Text as Excel shows it once the surgical writer has stored it: the writer's own
    cleaning (control characters, line ends, length, ``_xHHHH_`` escaping) undone only where
    Excel undoes it, so the result is exactly what reading the file back gives."""
    if s.isalnum() and len(s) < 1000:     # the common case: nothing to clean or escape
        return s
    return _decode_escapes(unescape(_writer_text(s)))


#: 15 significant digits, ties away from zero: how LibreOffice rounds a number's shortest
#: round-trip digits (``repr``) when it saves (…54995 -> …55)
_DIGITS15 = decimal.Context(prec=15, rounding=decimal.ROUND_HALF_UP)


def _digits12(x: float, legacy: bool = False) -> str:
    """``x`` (finite) to 12 significant digits, from its 15-digit form: a program that saves 15
    significant digits (LibreOffice, WPS) gives back the double of that 15-digit form, whose
    own 15-digit form is the same, so both give the same 12 digits (rounding straight to 12
    digits would tell one value in a thousand from its 15-digit copy, those whose 13th-15th
    digits sit at a rounding boundary: ``62.11533941154995`` against ``62.11533941155``).
    ``legacy``: straight to 12 digits, as stores of format 1 were computed."""
    if not legacy:
        # only a value whose 13th-15th digits are 499 or 500 can round differently from its
        # 15-digit form (the 12-digit boundary lies between them): the others go straight
        seventeen = format(x if x >= 0 else -x, ".16e")
        if seventeen[13:16] in ("499", "500"):
            x = float(_DIGITS15.create_decimal(repr(x)))
    text = format(x, ".12g")
    return "n:0" if text == "-0" else "n:" + text


def _scalar(v: Any, legacy: bool = False) -> str:
    """Canonical form of a non-text, non-formula value ("" for nothing)."""
    if type(v) is float:  # the common case first: result sheets are mostly floats
        if v - v != 0.0:  # NaN or ±inf
            return ""
        return _digits12(v, legacy)
    if v is None:
        return ""
    if isinstance(v, bool) or getattr(getattr(v, "dtype", None), "kind", "") == "b":
        return "b:1" if v else "b:0"
    if isinstance(v, numbers.Real):
        x = float(v)
        if not math.isfinite(x):
            return ""
        # 12 significant digits: some writers save doubles with fewer digits than it takes to
        # round-trip them (openpyxl: 16; LibreOffice: 15), and a human edit changes more than
        # the 13th digit; "-0" and "0" are the same cell
        return _digits12(x, legacy)
    if isinstance(v, datetime | date | time):
        return "d:" + v.isoformat()
    if isinstance(v, timedelta):
        return "d:" + str(v)
    if type(v).__name__ in ("NAType", "NaTType"):
        return ""
    return "s:" + str(v)


def canonical_spec_cell(cell: Cell, legacy: bool = False) -> str:
    """A cell of a :class:`SheetSpec` as the canonical text compared (``""`` = no cell);
    ``legacy``: numbers as stores of format 1 compared them."""
    v = cell.value
    if type(v) is float and cell.formula is None:
        return _scalar(v, legacy)
    f = cell.formula
    if f is not None:
        f = _ILLEGAL_XML.sub("", f[1:] if f.startswith("=") else f)
        return "s:=" + f
    v = cell.value
    if isinstance(v, str):
        s = _text_as_written(v)
        return "s:" + s if s else ""
    return _scalar(v, legacy)


def canonical_read_value(v: Any, legacy: bool = False, decoded: bool = False) -> str:
    """A value as openpyxl reads it (``data_only=False``: a formula is its ``=…`` text);
    ``legacy``: numbers as stores of format 1 compared them; ``decoded``: text whose
    ``_xHHHH_`` escapes the reader has decoded already (python-calamine does, openpyxl not)."""
    if isinstance(v, str):
        if not decoded:
            v = _decode_escapes(v)
        return "s:" + v if v else ""
    if v is not None and type(v).__name__ == "ArrayFormula":
        text = str(getattr(v, "text", "") or "")
        return "s:" + (text if text.startswith("=") else "=" + text)
    return _scalar(v, legacy)


def canonical_grid(rows: Iterable[Sequence[Any]], legacy: bool = False,
                   decoded: bool = False) -> list[list[str]]:
    """Rows of values as read (formulas as ``=…`` text) as rows of canonical cells;
    ``legacy`` and ``decoded``: as :func:`canonical_read_value`."""
    return [[canonical_read_value(v, legacy, decoded) for v in row] for row in rows]


def _spec_grid(spec: SheetSpec) -> list[list[str]]:
    return [list(row) for row in spec_rows(spec)]


#: Rows canonicalised at a time from a table held by column: each column formatted at once,
#: memory bounded whatever the table's height
_CHUNK = 512


def _canonical_floats(values: Any, legacy: bool = False) -> list[str]:
    """The canonical cells of a float array (NaN and ±inf: nothing), formatted at once: what
    :func:`_scalar` gives each value. Only the few values whose 13th-15th digits lie near the
    12-digit rounding boundary (or whose scale the vectorised test cannot place) take the
    exact scalar path; the rest are formatted straight to 12 digits, which is what the scalar
    path does with them."""
    import numpy as np

    a = np.asarray(values, dtype=np.float64) + 0.0     # -0.0 + 0.0 is 0.0: "-0" is "0"
    out = list(map("n:%.12g".__mod__, a.tolist()))
    finite = np.isfinite(a)
    for i in np.flatnonzero(~finite).tolist():
        out[i] = ""
    if legacy:
        return out
    with np.errstate(all="ignore"):
        magnitude = np.abs(a)
        exponent = np.floor(np.log10(magnitude))
        scaled = magnitude * np.power(10.0, 11.0 - exponent)   # 12 digits before the point
        fraction = scaled - np.floor(scaled)
        # the boundary is a fraction in [0.499, 0.501); the margin covers the float error of
        # the scaling (under 1e-3 at 1e12); an exponent misplaced near a power of ten, or a
        # scale out of range (subnormals, overflow) goes the exact way too
        placed = (scaled >= 1e11) & (scaled < 1e12)
        risky = finite & (magnitude != 0.0) & (~placed | (np.abs(fraction - 0.5) < 0.02))
    values_list = a.tolist()
    for i in np.flatnonzero(risky).tolist():
        out[i] = _digits12(values_list[i])
    return out


def _canonical_column(values: Any, legacy: bool = False) -> list[str]:
    """The canonical cells of a :class:`~xl_aiindex.workbook.sheetspec.Column`'s values (a
    slice of them), as :func:`canonical_spec_cell` gives the cells the table stands for."""
    if getattr(getattr(values, "dtype", None), "kind", "") in ("f", "i", "u"):
        return _canonical_floats(values, legacy)   # an integer is the double it is shown as
    plain = ColumnRows._plain
    return [canonical_spec_cell(Cell(plain(v)), legacy) for v in values]


#: A block of rows as its columns of canonical cells (all of the same length): (rows, columns)
Block = tuple[int, list[Sequence[str]]]


def _block(rows: list[Sequence[str]]) -> Block:
    """Rows of canonical cells as a :data:`Block` (short rows padded with nothing)."""
    return len(rows), [list(c) for c in itertools.zip_longest(*rows, fillvalue="")]


def _rows(blocks: Iterable[Block]) -> Iterator[Sequence[str]]:
    for n, columns in blocks:
        if columns:
            yield from zip(*columns, strict=True)
        else:
            yield from ([] for _ in range(n))


def spec_blocks(spec: SheetSpec, legacy: bool = False) -> Iterator[Block]:
    """The canonical cells of ``spec`` (:func:`canonical_spec_cell`), a block of at most
    :data:`_CHUNK` rows at a time, row 1 first; a :class:`ColumnRows` table is formatted a
    column at a time, never as cells."""
    rows = spec.rows
    if not isinstance(rows, ColumnRows):
        block: list[Sequence[str]] = []
        for row in rows:
            block.append([canonical_spec_cell(c, legacy) for c in row])
            if len(block) == _CHUNK:
                yield _block(block)
                block = []
        if block:
            yield _block(block)
        return
    yield _block([[canonical_spec_cell(c, legacy) for c in rows.header]])
    for lo in range(0, rows.body_rows, _CHUNK):
        hi = min(lo + _CHUNK, rows.body_rows)
        yield hi - lo, [_canonical_column(col.values[lo:hi], legacy) for col in rows.columns]


def spec_rows(spec: SheetSpec, legacy: bool = False) -> Iterator[Sequence[str]]:
    """The canonical cells of ``spec`` a row at a time (:func:`spec_blocks`)."""
    return _rows(spec_blocks(spec, legacy))


#: Python types of a column of numbers (and blanks) read, formatted at once; not bool, which
#: is TRUE or FALSE
_NUMBER_OR_BLANK = frozenset({float, int, type(None)})


def read_blocks(rows: Iterable[Sequence[Any]], legacy: bool = False,
                decoded: bool = False) -> Iterator[Block]:
    """:func:`canonical_grid` a block of :data:`_CHUNK` rows at a time, formatted a column at
    a time: a column (of the block) holding only numbers and blanks is formatted at once."""
    chunk: list[Sequence[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == _CHUNK:
            yield _read_block(chunk, legacy, decoded)
            chunk = []
    if chunk:
        yield _read_block(chunk, legacy, decoded)


def read_rows(rows: Iterable[Sequence[Any]], legacy: bool = False,
              decoded: bool = False) -> Iterator[Sequence[str]]:
    """:func:`canonical_grid` a row at a time (:func:`read_blocks`)."""
    return _rows(read_blocks(rows, legacy, decoded))


def _read_block(chunk: list[Sequence[Any]], legacy: bool, decoded: bool) -> Block:
    columns: list[Sequence[str]] = []
    for col in itertools.zip_longest(*chunk, fillvalue=None):
        if set(map(type, col)) <= _NUMBER_OR_BLANK:
            columns.append(_canonical_floats(col, legacy))   # None is NaN: nothing
        else:
            columns.append([canonical_read_value(v, legacy, decoded) for v in col])
    return len(chunk), columns
