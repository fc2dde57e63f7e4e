"""A result sheet's XML, generated in the order CT_Worksheet requires and streamed into the
output zip; cell values as XML.
"""

from __future__ import annotations

import datetime
import numbers
import queue
import re
import threading
import zipfile
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ...contract import FORMULA_ERRORS as _FORMULA_ERRORS
from ..cells import column_letter
from ..sheetspec import Cell, Column, ColumnRows, Style
from .jobs import _SheetJob
from .styles import _hex_argb
from .xmltext import (
    _ILLEGAL_XML,
    _XML_DECL,
    MAX_TEXT,
    NS_MAIN,
    NS_R,
    _esc,
    _esc_attr,
    _text,
)


def _coerce(v: Any) -> str | float | int | bool | None:
    """Exotic cell values (numpy scalars, pandas NA, str subclasses) as plain Python ones."""
    if isinstance(v, bool) or (getattr(getattr(v, "dtype", None), "kind", "") == "b"):
        return bool(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v)
    if isinstance(v, str):
        return str(v)
    if type(v).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(v, datetime.date | datetime.time | datetime.timedelta):
        # dates carried over from a sheet (e.g. the Log's) are kept as ISO text: unambiguous in
        # every locale, and nothing computes with them
        return v.isoformat(sep=" ") if isinstance(v, datetime.datetime) else (
            str(v) if isinstance(v, datetime.timedelta) else v.isoformat())
    raise TypeError(f"unsupported cell value {v!r} ({type(v).__name__})")


def _value_xml(v: Any) -> tuple[str, str] | None:
    """(t attribute, <v> text) of a cached formula result; None when there is none."""
    t = type(v)
    if t is not float and t is not int and t is not str and t is not bool and v is not None:
        v = _coerce(v)
        t = type(v)
    if v is None:
        return None
    if t is bool:
        return ' t="b"', "1" if v else "0"
    if t is float:
        return None if v - v != 0.0 else ("", repr(v))
    if t is int:
        return "", (str(v) if -(2**53) <= v <= 2**53 else repr(float(v)))
    if v in _FORMULA_ERRORS:
        return ' t="e"', v
    return ' t="str"', _text(v)


def _cell_xml(p: str, ref: str, v: Any) -> str:
    """One written cell (``p``: the sheet's element prefix); ``""`` for no cell."""
    if v is None or v == "":
        return ""
    v = _coerce(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return f'<{p}c r="{ref}" t="b"><{p}v>{int(v)}</{p}v></{p}c>'
    if isinstance(v, int):
        return f"<{p}c r=\"{ref}\"><{p}v>{v}</{p}v></{p}c>"
    if isinstance(v, float):
        return "" if v - v != 0.0 else f"<{p}c r=\"{ref}\"><{p}v>{v!r}</{p}v></{p}c>"
    return (f'<{p}c r="{ref}" t="inlineStr"><{p}is><{p}t xml:space="preserve">{_text(v)}'
            f"</{p}t></{p}is></{p}c>")


def _cell_text(ref: str, cell: Cell, sa: str) -> str:
    """One cell's XML (``sa``: its style attribute); ``""`` for no cell. The link is not here
    (it goes to ``<hyperlinks>``)."""
    v: Any = cell.value
    f = cell.formula
    if f is None:
        t = type(v)
        if t is float:
            return f'<c r="{ref}"{sa}><v>{v!r}</v></c>' if v - v == 0.0 else ""
        if t is str:
            return f'<c r="{ref}"{sa}{_INLINE}{_text(v)}</t></is></c>'
        if v is None:
            return ""
        if t is not int and t is not bool:
            v = _coerce(v)
            t = type(v)
            if v is None or (t is float and v - v != 0.0):
                return ""
            if t is str:
                return f'<c r="{ref}"{sa}{_INLINE}{_text(v)}</t></is></c>'
        if t is bool:
            return f'<c r="{ref}"{sa} t="b"><v>{1 if v else 0}</v></c>'
        if t is int:
            num = str(v) if -(2**53) <= v <= 2**53 else repr(float(v))
            return f'<c r="{ref}"{sa}><v>{num}</v></c>'
        return f'<c r="{ref}"{sa}><v>{v!r}</v></c>'
    if f.startswith("="):
        f = f[1:]
    fx = _esc(_ILLEGAL_XML.sub("", f))
    cached = _value_xml(v)
    if cached is None:
        return f'<c r="{ref}"{sa}><f>{fx}</f></c>'
    return f'<c r="{ref}"{sa}{cached[0]}><f>{fx}</f><v>{cached[1]}</v></c>'


_INLINE = ' t="inlineStr"><is><t xml:space="preserve">'

#: Rows of a :class:`ColumnRows` table formatted at a time, and at most about this many cells
#: (bounds the strings held at once).
_CHUNK_ROWS = 1024
_CHUNK_CELLS = 50_000


class _StyleAttrs:
    """The ``s="…"`` attribute of each style, looked up by identity first (styles are few
    objects shared by many cells)."""

    def __init__(self, xf_attr: dict[Style, str]) -> None:
        self.xf_attr = xf_attr
        self.cache: dict[int, tuple[Style, str]] = {}

    def __call__(self, st: Style | None) -> str:
        if st is None:
            return ""
        hit = self.cache.get(id(st))
        if hit is None or hit[0] is not st:
            if len(self.cache) > 4096:
                self.cache.clear()
            hit = self.cache[id(st)] = (st, self.xf_attr[st])
        return hit[1]


def _row_cells(row: Sequence[Cell], rn: str, letters: Sequence[str], attr: _StyleAttrs,
               links: list[str], job: _SheetJob) -> list[str]:
    """The XML of the cells of one row (row number ``rn``), empty cells left out."""
    cells = []
    for j, cell in enumerate(row):
        if cell.link is not None:
            links.append(_hyperlink(f"{letters[j]}{rn}", cell.link, job))
        x = _cell_text(f"{letters[j]}{rn}", cell, attr(cell.style))
        if x:
            cells.append(x)
    return cells


def _column_chunk(col: Column, lo: int, hi: int, letter: str, numbers: Sequence[str],
                  attr: _StyleAttrs) -> list[str]:
    """The XML of the cells ``lo:hi`` of a column (``numbers``: their row numbers as text),
    ``""`` for an empty one: a float array formatted at once (one ``repr`` of the list is
    each value's ``repr``), anything else cell by cell."""
    values = col.values
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        block = values[lo:hi].astype(float, copy=False)
        texts = str(block.tolist())[1:-1].split(", ") if hi > lo else []
        pre = f'<c r="{letter}'
        if col.styles is None:
            mid = f'"{attr(col.style)}><v>'
            out = [f"{pre}{rn}{mid}{t}</v></c>" for rn, t in zip(numbers, texts, strict=True)]
        else:
            out = [f'{pre}{rn}"{attr(st)}><v>{t}</v></c>'
                   for rn, t, st in zip(numbers, texts, col.styles[lo:hi], strict=True)]
        for k in np.flatnonzero(~np.isfinite(block)).tolist():
            out[k] = ""
        return out
    part = list(values[lo:hi])
    styles = col.styles[lo:hi] if col.styles is not None else None
    sas = [attr(st) for st in styles] if styles is not None else [attr(col.style)] * (hi - lo)
    kinds = set(map(type, part))
    kinds.discard(type(None))
    if kinds == {str}:
        escaped = _texts([v for v in part if v is not None])
        if escaped is not None:
            it = iter(escaped)
            return ["" if v is None else f'<c r="{letter}{rn}"{sa}{_INLINE}{next(it)}</t></is></c>'
                    for rn, v, sa in zip(numbers, part, sas, strict=True)]
    elif kinds == {int} and all(v is None or -(2**53) <= v <= 2**53 for v in part):
        return ["" if v is None else f'<c r="{letter}{rn}"{sa}><v>{v}</v></c>'
                for rn, v, sa in zip(numbers, part, sas, strict=True)]
    return [_cell_text(f"{letter}{rn}", Cell(v), sa)
            for rn, v, sa in zip(numbers, part, sas, strict=True)]


_ILLEGAL_BUT_NUL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _texts(values: list[str]) -> list[str] | None:
    """:func:`~.xmltext._text` of each of ``values``, escaped all at once when none needs more
    than escaping ``&<>`` (None: some do; the caller takes them one by one)."""
    if not values:
        return []
    joined = "\x00".join(values)
    if (joined.count("\x00") != len(values) - 1 or "_x" in joined or "\r" in joined
            or _ILLEGAL_BUT_NUL.search(joined) or max(map(len, values)) > MAX_TEXT):
        return None
    return joined.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").split("\x00")


def _write_sheet(zout: zipfile.ZipFile, zinfo: zipfile.ZipInfo, job: _SheetJob,
                 xf_attr: dict[Style, str]) -> None:
    force64 = job.n_rows * max(job.n_cols, 1) > 20_000_000
    with zout.open(zinfo, "w", force_zip64=force64) as out:
        write_overlapped(_sheet_chunks(job, xf_attr), out.write)


def write_overlapped(chunks: Iterator[bytes], write: Callable[[bytes], object]) -> None:
    """``write`` each of ``chunks`` in order, on a second thread once there are two or more:
    zlib deflates and checksums without holding the interpreter's lock, so a large sheet's
    compression runs beside the making of its next pieces of XML (issue 20) instead of after
    them. At most two pieces wait at a time; an error on either side is raised here, after
    the thread has ended."""
    first = next(chunks, None)
    second = next(chunks, None) if first is not None else None
    if second is None:
        if first is not None:
            write(first)
        return
    pending: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
    failed: list[BaseException] = []

    def drain() -> None:
        try:
            while (piece := pending.get()) is not None:
                write(piece)
        except BaseException as e:   # handed to the making thread, which raises it
            failed.append(e)
            while pending.get() is not None:   # let the making thread finish its puts
                pass

    writer = threading.Thread(target=drain, name="xl-aiindex sheet writer")
    writer.start()
    try:
        pending.put(first)
        pending.put(second)
        for piece in chunks:
            if failed:
                break
            pending.put(piece)
    finally:
        pending.put(None)
        writer.join()
    if failed:
        raise failed[0]


def _sheet_chunks(job: _SheetJob, xf_attr: dict[Style, str]) -> Iterator[bytes]:
    """A result sheet's XML, in encoded pieces of a few megabytes."""
    spec = job.spec
    n_rows, n_cols = job.n_rows, job.n_cols
    letters = [column_letter(i) for i in range(n_cols)]
    last = f"{letters[-1]}{n_rows}" if n_rows and n_cols else ""
    yield _sheet_head(job, last).encode()
    buf: list[str] = []
    w = buf.append
    links: list[str] = []
    attr = _StyleAttrs(xf_attr)
    rows = spec.rows
    if isinstance(rows, ColumnRows):
        cells = _row_cells(rows.header, "1", letters, attr, links, job)
        if cells:
            w(f'<row r="1">{"".join(cells)}</row>')
        step = max(16, min(_CHUNK_ROWS, _CHUNK_CELLS // max(n_cols, 1)))
        for lo in range(0, rows.body_rows, step):
            hi = min(lo + step, rows.body_rows)
            numbers = [str(r) for r in range(lo + 2, hi + 2)]
            chunk = [_column_chunk(col, lo, hi, letters[j], numbers, attr)
                     for j, col in enumerate(rows.columns)]
            for rn, parts in zip(numbers, zip(*chunk, strict=True), strict=True):
                body = "".join(parts)
                if body:
                    w(f'<row r="{rn}">{body}</row>')
            yield "".join(buf).encode()
            buf.clear()
    else:
        for r_idx, row in enumerate(rows, 1):
            rn = str(r_idx)
            cells = _row_cells(row, rn, letters, attr, links, job)
            if cells:
                w(f'<row r="{rn}">')
                w("".join(cells))
                w("</row>")
                if len(buf) > 300:
                    yield "".join(buf).encode()
                    buf.clear()
    w("</sheetData>")
    protection = job.protection() if callable(job.protection) else job.protection
    if protection is not None:   # CT_Worksheet: right after sheetData (sheetCalcPr)
        w("<sheetProtection" + "".join(f' {k}="{_esc_attr(v)}"'
                                       for k, v in protection.items()) + "/>")
    if spec.autofilter and last and job.table is None:
        w(f'<autoFilter ref="A1:{last}"/>')
    if links:
        w("<hyperlinks>")
        w("".join(links))
        w("</hyperlinks>")
    w('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
      'footer="0.3"/>')
    if job.drawing is not None:
        w(f'<drawing r:id="{_esc_attr(job.drawing.id)}"/>')
    if job.vml is not None:
        w(f'<legacyDrawing r:id="{_esc_attr(job.vml.id)}"/>')
    if job.table is not None:
        w(f'<tableParts count="1"><tablePart r:id="{_esc_attr(job.table.id)}"/></tableParts>')
    w("</worksheet>")
    yield "".join(buf).encode()


def _hyperlink(ref: str, link: str, job: _SheetJob) -> str:
    rid = job.external.get(link)
    if rid is not None:
        return f'<hyperlink ref="{ref}" r:id="{rid}"/>'
    return f'<hyperlink ref="{ref}" location="{_esc_attr(link.removeprefix("#"))}"/>'


def _sheet_head(job: _SheetJob, last: str) -> str:
    spec = job.spec
    parts = [_XML_DECL, f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">']
    if job.code_name is not None or spec.tab_color is not None:
        pr = "<sheetPr"
        if job.code_name is not None:
            pr += f' codeName="{_esc_attr(job.code_name)}"'
        if spec.tab_color is not None:
            pr += f'><tabColor rgb="{_hex_argb(spec.tab_color, "tab_color")}"/></sheetPr>'
        else:
            pr += "/>"
        parts.append(pr)
    parts.append(f'<dimension ref="A1{":" + last if last and last != "A1" else ""}"/>')
    view_attrs = "".join(f' {k}="{_esc_attr(v)}"' for k, v in job.view_attrs.items())
    rows, cols = spec.freeze
    if rows or cols:
        top_left = f"{column_letter(cols)}{rows + 1}"
        pane = ("bottomRight" if rows and cols else "bottomLeft" if rows else "topRight")
        split = (f' xSplit="{cols}"' if cols else "") + (f' ySplit="{rows}"' if rows else "")
        parts.append(f'<sheetViews><sheetView{view_attrs} workbookViewId="0">'
                     f'<pane{split} topLeftCell="{top_left}" activePane="{pane}" '
                     f'state="frozen"/><selection pane="{pane}" activeCell="{top_left}" '
                     f'sqref="{top_left}"/></sheetView></sheetViews>')
    else:
        parts.append(f'<sheetViews><sheetView{view_attrs} workbookViewId="0"/></sheetViews>')
    fmt = dict(job.format_attrs)
    fmt.setdefault("defaultRowHeight", "15")
    parts.append("<sheetFormatPr" + "".join(f' {k}="{_esc_attr(v)}"' for k, v in fmt.items())
                 + "/>")
    if spec.widths:
        parts.append("<cols>")
        for col in sorted(spec.widths):
            width = min(float(spec.widths[col]), 255.0)
            parts.append(f'<col min="{col + 1}" max="{col + 1}" width="{width!r}" '
                         'customWidth="1"/>')
        parts.append("</cols>")
    parts.append("<sheetData>")
    return "".join(parts)
