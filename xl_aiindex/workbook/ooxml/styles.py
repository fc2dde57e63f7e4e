"""``styles.xml``: the cell formats the written :class:`Style` values need, appended to the
workbook's own (an identical entry is reused; nothing existing moves).
"""

from __future__ import annotations

import re
from typing import Any

import defusedxml.ElementTree as DET

from ..sheetspec import Style
from .xmltext import (
    _XML_DECL,
    NS_MAIN,
    _append_children,
    _apply,
    _decode,
    _esc_attr,
    _parse,
    _prefixed,
    _scan,
)

_BUILTIN_NUM_FORMATS = {
    "General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10,
    "0.00E+00": 11, "@": 49,
}

_H_ALIGN = frozenset({"general", "left", "center", "right", "fill", "justify",
                      "centerContinuous", "distributed"})

_STYLE_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles",
                "dxfs", "tableStyles", "colors", "extLst")

_HEX_COLOR = re.compile(r"#?([0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})")


def _hex_argb(color: str, what: str) -> str:
    m = _HEX_COLOR.fullmatch(color.strip())
    if m is None:
        raise ValueError(f"{what} must be 'RRGGBB' hex, got {color!r}")
    h = m.group(1).upper()
    return h if len(h) == 8 else "FF" + h

_MINIMAL_STYLES = (
    f'<styleSheet xmlns="{NS_MAIN}"><fonts count="1"><font><sz val="11"/><color theme="1"/>'
    '<name val="Calibri"/><family val="2"/><scheme val="minor"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill>'
    '<patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/>'
    '<right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>'
)


class _StyleBook:
    """Appends what the distinct :class:`Style` values need to ``styles.xml``."""

    def __init__(self, data: bytes | None) -> None:
        if data is None:
            data = (_XML_DECL + _MINIMAL_STYLES).encode()
        self.text, self.codec = _decode(data)
        root = _parse(data)
        if root.tag != f"{{{NS_MAIN}}}styleSheet":
            raise ValueError(f"unsupported styles part root {root.tag!r}")

        def kids(local: str) -> list[Any]:
            el = root.find(f"{{{NS_MAIN}}}{local}")
            return [] if el is None else [c for c in el if isinstance(c.tag, str)]

        self.num_formats = {el.get("formatCode", ""): int(el.get("numFmtId", "0"))
                            for el in kids("numFmts")}
        # identical entries are reused, not appended again: styles.xml does not grow with
        # every recalc (compared by meaning: attribute order and prefixes do not matter)
        self.known: dict[str, dict[Any, int]] = {}
        for local in ("fonts", "fills", "borders", "cellXfs"):
            seen: dict[Any, int] = {}
            for i, el in enumerate(kids(local)):
                seen.setdefault(_style_key(el), i)
            self.known[local] = seen
        fonts = kids("fonts")
        self.font0 = fonts[0] if fonts else None
        self.n = {local: len(kids(local)) for local in
                  ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs")}
        self.next_fmt = max([163, *self.num_formats.values()]) + 1
        self.added: dict[str, list[str]] = {k: [] for k in self.n}
        self.font_ids: dict[tuple[bool, str | None], int] = {(False, None): 0}
        self.fill_ids: dict[str | None, int] = {None: 0}
        self.border_ids: dict[bool, int] = {False: 0}
        self.xf_ids: dict[Style, int] = {}
        self.prefix = ""
        self._ensure_defaults()

    def _add(self, local: str, xml: str) -> int:
        known = self.known.get(local)
        if known is not None:
            k = _style_key(DET.fromstring(xml))
            if k in known:
                return known[k]
            known[k] = self.n[local] + len(self.added[local])
        idx = self.n[local] + len(self.added[local])
        self.added[local].append(xml)
        return idx

    def _ensure_defaults(self) -> None:
        """Excel needs font 0, fills 0/1 (none, gray125), border 0 and xf 0 to exist."""
        if self.n["fonts"] == 0:
            self._add("fonts", '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>')
        if self.n["fills"] == 0:
            self._add("fills", '<fill><patternFill patternType="none"/></fill>')
        if self.n["fills"] + len(self.added["fills"]) == 1:
            self._add("fills", '<fill><patternFill patternType="gray125"/></fill>')
        if self.n["borders"] == 0:
            self._add("borders", "<border><left/><right/><top/><bottom/><diagonal/></border>")
        if self.n["cellXfs"] == 0:
            self._add("cellXfs", '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>')

    @property
    def changed(self) -> bool:
        return any(self.added.values())

    def _num_fmt(self, code: str) -> int:
        if code in _BUILTIN_NUM_FORMATS:
            return _BUILTIN_NUM_FORMATS[code]
        if code in self.num_formats:
            return self.num_formats[code]
        fmt_id = self.next_fmt
        self.next_fmt += 1
        self.num_formats[code] = fmt_id
        self._add("numFmts", f'<numFmt numFmtId="{fmt_id}" formatCode="{_esc_attr(code)}"/>')
        return fmt_id

    def _font(self, bold: bool, color: str | None) -> int:
        key = (bold, color)
        if key not in self.font_ids:
            items: list[tuple[str, str]] = []   # (local name, xml) in font 0's order
            base = [] if self.font0 is None else [c for c in self.font0 if isinstance(c.tag, str)]
            for el in base:
                local = el.tag.rpartition("}")[2]
                attrs = "".join(f' {k}="{_esc_attr(v)}"' for k, v in el.attrib.items()
                                if not k.startswith("{"))
                items.append((local, f"<{local}{attrs}/>"))
            items = [it for it in items if it[0] != "b" or bold]
            if bold and not any(it[0] == "b" for it in items):
                items.insert(0, ("b", "<b/>"))
            if color is not None:
                new = ("color", f'<color rgb="{color}"/>')
                pos = next((i for i, it in enumerate(items) if it[0] == "color"), None)
                if pos is not None:
                    items[pos] = new
                else:
                    after = next((i + 1 for i, it in enumerate(items) if it[0] == "sz"),
                                 len(items))
                    items.insert(after, new)
            self.font_ids[key] = self._add("fonts", "<font>" + "".join(x for _, x in items)
                                           + "</font>")
        return self.font_ids[key]

    def _fill(self, color: str | None) -> int:
        if color not in self.fill_ids:
            self.fill_ids[color] = self._add(
                "fills", f'<fill><patternFill patternType="solid"><fgColor rgb="{color}"/>'
                '<bgColor indexed="64"/></patternFill></fill>')
        return self.fill_ids[color]

    def _border(self, bottom: bool) -> int:
        if bottom not in self.border_ids:
            self.border_ids[bottom] = self._add(
                "borders", '<border><left/><right/><top/><bottom style="thin">'
                '<color indexed="64"/></bottom><diagonal/></border>')
        return self.border_ids[bottom]

    def xf(self, style: Style) -> int:
        """The cellXfs index for ``style`` (appended on first use)."""
        hit = self.xf_ids.get(style)
        if hit is not None:
            return hit
        fmt = self._num_fmt(style.num_format or "General")
        font_color = None if style.font_color is None else _hex_argb(style.font_color,
                                                                     "Style.font_color")
        fill_color = None if style.fill is None else _hex_argb(style.fill, "Style.fill")
        font = self._font(bool(style.bold), font_color)
        fill = self._fill(fill_color)
        border = self._border(bool(style.border_bottom))
        attrs = f'numFmtId="{fmt}" fontId="{font}" fillId="{fill}" borderId="{border}"'
        if self.n["cellStyleXfs"]:
            attrs += ' xfId="0"'
        for flag, on in (("applyNumberFormat", fmt), ("applyFont", font), ("applyFill", fill),
                         ("applyBorder", border)):
            if on:
                attrs += f' {flag}="1"'
        align = ""
        if style.align is not None or style.wrap:
            if style.align is not None and style.align not in _H_ALIGN:
                raise ValueError(f"Style.align must be one of {sorted(_H_ALIGN)}, "
                                 f"got {style.align!r}")
            attrs += ' applyAlignment="1"'
            align = "<alignment"
            if style.align is not None:
                align += f' horizontal="{style.align}"'
            if style.indent and style.align in ("left", "right", "distributed"):
                align += f' indent="{int(style.indent)}"'
            if style.wrap:
                align += ' wrapText="1"'
            align += "/>"
        xml = f"<xf {attrs}>{align}</xf>" if align else f"<xf {attrs}/>"
        idx = self._add("cellXfs", xml)
        self.xf_ids[style] = idx
        return idx

    def render(self) -> bytes:
        """styles.xml with the additions (textual insertion, everything else byte-identical)."""
        root = _scan(self.text)
        p = root.prefix
        edits: list[tuple[int, int, str]] = []
        for local, items in self.added.items():
            if not items:
                continue
            body = "".join(_prefixed(x, p) for x in items)
            edits.extend(_append_children(self.text, root, local, body,
                                          self.n[local] + len(items), _STYLE_ORDER))
        text = _apply(self.text, edits)
        out = text.encode(self.codec)
        _parse(out)
        return out

_FLAG_ELEMENTS = frozenset({"b", "i", "strike", "condense", "extend", "outline", "shadow"})


def _style_key(el: Any) -> Any:
    """What a styles.xml entry means: its local name, attributes and children, as Excel and
    other writers vary them when they save (order, ``applyX`` flags, ``xfId``, default-valued
    attributes, ``<b val="1"/>`` for ``<b/>``)."""
    local = el.tag.rpartition("}")[2] if isinstance(el.tag, str) else ""
    attrs = []
    for k, v in el.attrib.items():
        if k.startswith("{") or k.startswith("apply") or k == "xfId":
            continue
        if k in ("pivotButton", "quotePrefix") and v in ("0", "false"):
            continue
        if k == "val" and local in _FLAG_ELEMENTS and v in ("1", "true"):
            continue
        attrs.append((k, v))
    return local, tuple(sorted(attrs)), tuple(sorted(_style_key(c) for c in el
                                                     if isinstance(c.tag, str)))
