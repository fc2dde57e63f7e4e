"""One row appended to an existing worksheet (the Log), editing its XML in place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...i18n import _
from ..cells import column_letter
from .sheetxml import _cell_xml
from .xmltext import MAX_COLS, MAX_ROWS, _apply, _attr, _decode, _open_tag, _parse, _set_attr


@dataclass(frozen=True)
class RowAppend:
    """One row to append to an existing worksheet, editing its XML in place (every other
    byte of the part, its relationships, comments, tables and user columns kept).

    ``cells``: 0-based column -> value (text, number, bool; None or ``""`` writes no cell),
    written in the row after the last row holding a value. ``header``: 0-based column ->
    text to add to row 1 where the sheet has no header cell yet (or to write row 1 of an
    empty sheet). When no sheet of that name exists, :func:`splice_sheets` appends a new
    sheet holding the header and the row, with column widths ``widths``.
    """

    sheet: str
    cells: Mapping[int, Any]
    header: Mapping[int, str] = field(default_factory=dict)
    widths: Mapping[int, float] = field(default_factory=dict)

_ROW_TAG = re.compile(r"<((?:[A-Za-z_][\w.-]*:)?)row\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>")
_HAS_VALUE = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(?:v|is|f)[\s>/]")
_CELL_TAG = re.compile(r"<((?:[A-Za-z_][\w.-]*:)?)c\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>")
_REF_PARTS = re.compile(r"([A-Z]{1,3})([0-9]+)")


def _col_of(ref: str) -> int:
    m = _REF_PARTS.match(ref)
    if m is None:
        return -1
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return col - 1


def _append_row(data: bytes, app: RowAppend) -> bytes:
    """The worksheet XML ``data`` with ``app``'s row inserted after the last row holding a value
    (and its missing header cells added to row 1); every other byte kept."""
    beyond = [c for c in (*app.header, *app.cells) if c >= MAX_COLS]
    if beyond:
        col = min(beyond)
        what = repr(app.header[col]) if col in app.header else _("the new row")
        raise ValueError(_("sheet {sheet} is full: no column after XFD for {what}; delete or "
                           "move the cells of row 1 after the {name}'s own columns").format(
                               sheet=repr(app.sheet), what=what, name=app.sheet.strip()))
    text, codec = _decode(data)
    m_open = re.search(r"<((?:[A-Za-z_][\w.-]*:)?)sheetData\b[^>]*?(/?)>", text)
    if m_open is None:
        raise ValueError(f"sheet {app.sheet!r} has no <sheetData>")
    p = m_open.group(1)
    edits: list[tuple[int, int, str]] = []
    rows: list[tuple[int, int, int, str, bool]] = []   # (r, start, end, start tag, has value)
    if m_open.group(2):
        body_start = body_end = m_open.end()
        edits.append((m_open.start(), m_open.end(), f"<{p}sheetData>"))
        tail = f"</{p}sheetData>"
    else:
        body_start = m_open.end()
        m_close = re.compile(f"</{re.escape(p)}sheetData\\s*>").search(text, body_start)
        if m_close is None:
            raise ValueError(f"sheet {app.sheet!r}: malformed <sheetData>")
        body_end = m_close.start()
        tail = ""
        pos, last_r = body_start, 0
        while True:
            m = _ROW_TAG.search(text, pos, body_end)
            if m is None:
                break
            r_attr = _attr(m.group(0), "r")
            r = int(r_attr) if r_attr and r_attr.isdigit() else last_r + 1
            last_r = r
            if m.group(3):
                end = m.end()
                has = False
            else:
                close = text.find(f"</{m.group(1)}row>", m.end(), body_end)
                if close < 0:
                    raise ValueError(f"sheet {app.sheet!r}: malformed <row>")
                end = close + len(f"</{m.group(1)}row>")
                has = _HAS_VALUE.search(text, m.end(), close) is not None
            rows.append((r, m.start(), end, m.group(0), has))
            pos = end
    last = max((r for r, *_rest, has in rows if has), default=0)
    header_row = next((row for row in rows if row[0] == 1), None)
    added_cols: list[int] = []
    if app.header:
        used: set[int] = set()
        if header_row is not None and header_row[1] != header_row[2] and last:
            inner_end = header_row[2] - len(f"</{p}row>") if not header_row[3].endswith("/>") \
                else header_row[2]
            for cm in _CELL_TAG.finditer(text, header_row[1], inner_end):
                ref = _attr(cm.group(0), "r") or ""
                used.add(_col_of(ref))
        missing = {c: h for c, h in app.header.items() if c not in used}
        if missing:
            cells = "".join(_cell_xml(p, f"{column_letter(c)}1", h)
                            for c, h in sorted(missing.items()))
            added_cols = list(missing)
            if header_row is None:
                at = rows[0][1] if rows else body_end
                edits.append((at, at, f'<{p}row r="1">{cells}</{p}row>'))
            elif header_row[3].endswith("/>"):
                edits.append((header_row[1], header_row[2],
                              f"{_open_tag(header_row[3])}{cells}</{p}row>"))
            else:
                # after the header row's last cell whose column is before the new ones
                close = header_row[2] - len(f"</{p}row>")
                at = close
                first_new = min(missing)
                for cm in _CELL_TAG.finditer(text, header_row[1], close):
                    if _col_of(_attr(cm.group(0), "r") or "") > first_new:
                        at = cm.start()
                        break
                edits.append((at, at, cells))
            last = max(last, 1)
    n = max(last, 1) + 1
    if n > MAX_ROWS:   # Excel's last row is taken: a row below it would make the file corrupt
        raise ValueError(_("sheet {sheet} is full: row {row} holds a value; delete or move old "
                           "{name} rows").format(sheet=repr(app.sheet), row=f"{last:,}",
                                                 name=app.sheet.strip()))
    cells_xml = "".join(_cell_xml(p, f"{column_letter(c)}{n}", v)
                        for c, v in sorted(app.cells.items()))
    new_row = f'<{p}row r="{n}">{cells_xml}</{p}row>'
    same = next((row for row in rows if row[0] == n), None)
    if same is not None:
        edits.append((same[1], same[2], new_row))
    else:
        at = next((row[1] for row in rows if row[0] > n), body_end)
        edits.append((at, at, new_row + tail))
    # the dimension covers the new row
    dim = re.search(r"<(?:[A-Za-z_][\w.-]*:)?dimension\b[^>]*>", text)
    if dim is not None:
        ref = _attr(dim.group(0), "ref") or "A1"
        corners = [(_col_of(x), int(mm.group(2))) for x in ref.split(":")
                   if (mm := _REF_PARTS.match(x.replace("$", ""))) is not None]
        max_col = max([c for c, _ in corners] + [*app.cells, *added_cols, 0])
        max_row = max([r for _, r in corners] + [n])
        new_ref = f"A1:{column_letter(max_col)}{max_row}"
        edits.append((dim.start(), dim.end(), _set_attr(dim.group(0), "ref", new_ref)))
    out = _apply(text, edits).encode(codec)
    _parse(out)
    return out
