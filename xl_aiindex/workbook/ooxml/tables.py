"""Tables on a replaced sheet: re-pointed at the new rows when laid over the result table, and
the formulas and defined names that would break if one went away.
"""

from __future__ import annotations

import re
import zipfile

from ..cells import column_letter
from .jobs import _SheetJob
from .opc import _Package, _Rel
from .xmltext import (
    NS_MAIN,
    NS_R,
    RT_WORKSHEET,
    _apply,
    _decode,
    _esc_attr,
    _parse,
    _scan,
    _set_attr,
    unescape,
)


def _repoint_table(data: bytes, job: _SheetJob) -> bytes | None:
    """The table part ``data`` re-pointed at the new rows of ``job``'s sheet (its columns
    named by the new header row), when the table started at A1 (it was laid over the result
    table); None otherwise (the table goes with the sheet's old content)."""
    root = _parse(data)
    ref = (root.get("ref") or "").replace("$", "").upper()
    if not ref.startswith("A1:") or job.n_rows < 2 or job.n_cols < 1:
        return None
    header = [c.value for c in job.spec.rows[0]]
    names = [str(v) if v is not None else "" for v in header]
    if any(not n.strip() for n in names) or len({n.casefold() for n in names}) != len(names):
        return None
    text, codec = _decode(data)
    node = _scan(text)
    p = node.prefix
    new_ref = f"A1:{column_letter(job.n_cols - 1)}{job.n_rows}"
    tag = _set_attr(text[node.start:node.tag_end], "ref", new_ref)
    for attr in ("totalsRowCount", "totalsRowShown"):
        tag = re.sub(rf'\s{attr}="[^"]*"', "", tag)
    edits: list[tuple[int, int, str]] = [(node.start, node.tag_end, tag)]
    for child in node.children:
        if child.local == "autoFilter":
            edits.append((child.start, child.end, f'<{p}autoFilter ref="{new_ref}"/>'))
        elif child.local == "sortState":
            edits.append((child.start, child.end, ""))
        elif child.local == "tableColumns":
            cols = "".join(f'<{p}tableColumn id="{i}" name="{_esc_attr(n)}"/>'
                           for i, n in enumerate(names, 1))
            edits.append((child.start, child.end,
                          f'<{p}tableColumns count="{len(names)}">{cols}</{p}tableColumns>'))
    out = _apply(text, edits).encode(codec)
    _parse(out)
    return out

_FORMULA_CELL = re.compile(r'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+[0-9]+)"[^>]*>(?:(?!</(?:\w+:)?c>).)*?'
                           r"<(?:\w+:)?f\b[^>]*>([^<]+)</(?:\w+:)?f>", re.S)


def _table_users(zin: zipfile.ZipFile, pkg: _Package, wb_part: str, wb_rels: dict[str, _Rel],
                 replaced: set[str], tables: list[tuple[str, str]]) -> list[str]:
    """Formulas (on sheets not replaced) and defined names that use one of ``tables``."""
    pats = [(name, sheet, re.compile(rf"(?<![\w.]){re.escape(name)}(?![\w.(])", re.I))
            for name, sheet in tables if name]
    if not pats:
        return []
    names = {r.id: r for r in wb_rels.values()}
    root = _parse(zin.read(wb_part))
    users: list[str] = []
    sheets_el = root.find(f"{{{NS_MAIN}}}sheets")
    for el in [] if sheets_el is None else sheets_el:
        rel = names.get(el.get(f"{{{NS_R}}}id", ""))
        part = None if rel is None or rel.type != RT_WORKSHEET else pkg.resolve(wb_part, rel)
        if part is None or part in replaced:
            continue
        text = zin.read(part).decode("utf-8", "replace")
        if "<f" not in text and ":f" not in text:
            continue
        for m in _FORMULA_CELL.finditer(text):
            formula = unescape(m.group(2))
            for tname, sheet, pat in pats:
                if pat.search(formula):
                    users.append(f"formula ={formula} in '{el.get('name', '')}'!{m.group(1)} uses "
                                 f"table {tname} on sheet '{sheet}'")
    block = root.find(f"{{{NS_MAIN}}}definedNames")
    for dn in [] if block is None else block:
        for tname, sheet, pat in pats:
            if pat.search(dn.text or ""):
                users.append(f"defined name {dn.get('name', '')} (={dn.text}) uses table {tname} "
                             f"on sheet '{sheet}'")
    return users[:10]
