"""Edits of ``workbook.xml`` (appended sheets, ``calcPr``, the writer's defined names), of
``.rels`` parts and of ``[Content_Types].xml``, by textual insertion.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .xmltext import (
    _ILLEGAL_XML,
    NS_R,
    _apply,
    _attr,
    _decode,
    _esc,
    _esc_attr,
    _Node,
    _ns_prefix,
    _open_tag,
    _parse,
    _prefixed,
    _scan,
    _set_attr,
    unescape,
)

#: Prefix of the defined names this writer owns (adds, replaces, removes).
OWNED_PREFIX = "xlai_"

#: What Excel accepts as a defined name (letters, digits, ``_``, ``.``, ``\``; no cell look-alike
#: is possible once the owned prefix leads).
_NAME = re.compile(r"[A-Za-z_\\][A-Za-z0-9_.\\]*")

_MAX_NAME = 255

_AFTER_CALCPR = ("oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                 "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")


def _check_names(names: Mapping[str, str], prefix: str) -> dict[str, str]:
    """The defined names to write, checked: valid Excel names with the owned prefix, unique
    case-insensitively, with a non-empty reference."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for name, ref in names.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name) or len(name) > _MAX_NAME:
            raise ValueError(f"invalid defined name {name!r}: letters, digits, '_', '.' only, "
                             f"at most {_MAX_NAME} characters")
        if not name.lower().startswith(prefix.lower()):
            raise ValueError(f"defined name {name!r} does not start with {prefix!r}: this writer "
                             "only manages names with that prefix")
        if name.lower() in seen:
            raise ValueError(f"defined name {name!r} given twice (names are case-insensitive)")
        text = str(ref).strip().removeprefix("=")
        if not text:
            raise ValueError(f"defined name {name!r} has an empty reference")
        seen.add(name.lower())
        out[name] = _ILLEGAL_XML.sub("", text)
    return out


def _edit_workbook(data: bytes, inserts: list[tuple[str, int, str]], full_calc: bool,
                   names: dict[str, str] | None = None, prefix: str = OWNED_PREFIX, hidden: set[str] | None = None) -> bytes:
    text, codec = _decode(data)
    root = _scan(text)
    root_tag = text[root.start:root.tag_end]
    edits: list[tuple[int, int, str]] = []
    if names is not None:
        edits.extend(_name_edits(text, root, names, prefix))
    if inserts:
        sheets = root.child("sheets")
        assert sheets is not None and sheets.close_start is not None
        p = sheets.prefix
        r = _ns_prefix(root_tag, NS_R)
        decl = ""
        if not r:   # relationships namespace not bound on the root: declare it here
            r, decl = "r", f' xmlns:r="{NS_R}"'
        body = "".join(f'<{p}sheet name="{_esc_attr(name)}" sheetId="{sid}"'
                       + (' state="veryHidden"' if name.strip().casefold() in (hidden or set())
                          else "")
                       + f'{decl} {r}:id="{rid}"/>' for name, sid, rid in inserts)
        edits.append((sheets.close_start, sheets.close_start, body))
    if full_calc:
        calc = root.child("calcPr")
        if calc is not None:
            tag = text[calc.start:calc.tag_end]
            edits.append((calc.start, calc.tag_end, _set_attr(tag, "fullCalcOnLoad", "1")))
        else:
            pos = next((c.start for c in root.children if c.local in _AFTER_CALCPR),
                       root.close_start)
            assert pos is not None
            edits.append((pos, pos, f'<{root.prefix}calcPr fullCalcOnLoad="1"/>'))
    out = _apply(text, edits).encode(codec)
    _parse(out)
    return out


def _name_edits(text: str, root: _Node, names: dict[str, str], prefix: str
                ) -> list[tuple[int, int, str]]:
    """Edits of ``workbook.xml`` that drop the owned workbook-level defined names and add
    ``names``; nothing when the owned names are already exactly these."""
    block = root.child("definedNames")
    owned: list[_Node] = []
    kept = 0
    current: dict[str, str] = {}
    if block is not None:
        for child in block.children:
            tag = text[child.start:child.tag_end]
            name = _attr(tag, "name") or ""
            if (child.local == "definedName" and name.lower().startswith(prefix.lower())
                    and _attr(tag, "localSheetId") is None):
                owned.append(child)
                inner = "" if child.close_start is None else text[child.tag_end:child.close_start]
                current[name] = unescape(inner)
            else:
                kept += 1
    if current == names and len(owned) == len(names):
        return []
    p = root.prefix if block is None else block.prefix
    body = "".join(f'<{p}definedName name="{_esc_attr(n)}">{_esc(names[n])}</{p}definedName>'
                   for n in sorted(names, key=str.lower))
    if block is None:
        if not body:
            return []
        pos = next((c.start for c in root.children if c.local in ("calcPr", *_AFTER_CALCPR)),
                   root.close_start)
        assert pos is not None
        return [(pos, pos, f"<{p}definedNames>{body}</{p}definedNames>")]
    if not kept and not body:
        return [(block.start, block.end, "")]
    edits = [(c.start, c.end, "") for c in owned]
    if body:
        if block.close_start is None:   # <definedNames/>: only possible with nothing kept
            tag = text[block.start:block.tag_end]
            edits.append((block.start, block.end, f"{_open_tag(tag)}{body}</{block.qname}>"))
        else:
            edits.append((block.close_start, block.close_start, body))
    return edits


def _edit_list(data: bytes, key: str, drop: set[str], inserts: list[str], *,
               casefold: bool = False) -> bytes:
    """Drop the root's children whose attribute ``key`` is in ``drop``; append ``inserts``
    (for ``.rels`` parts and ``[Content_Types].xml``)."""
    text, codec = _decode(data)
    root = _scan(text)
    edits: list[tuple[int, int, str]] = []
    for child in root.children:
        value = _attr(text[child.start:child.tag_end], key)
        if value is not None and (value.lower() if casefold else value) in drop:
            edits.append((child.start, child.end, ""))
    if inserts:
        assert root.close_start is not None
        edits.append((root.close_start, root.close_start,
                      "".join(_prefixed(x, root.prefix) for x in inserts)))
    out = _apply(text, edits).encode(codec)
    _parse(out)
    return out
