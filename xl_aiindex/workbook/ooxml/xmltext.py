"""Text-level XML for the writer: namespaces, content types and limits, a small tag scanner for
editing parts in place (every byte outside the edited spots kept), escaping and a safe parse.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import defusedxml.ElementTree as DET

from ..contract import MAX_COLS, MAX_ROWS, MAX_TEXT  # noqa: F401 (re-exported to ooxml)

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
NS_STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
RT_OFFICE_DOCUMENT = NS_R + "/officeDocument"
RT_WORKSHEET = NS_R + "/worksheet"
RT_STYLES = NS_R + "/styles"
RT_CALC_CHAIN = NS_R + "/calcChain"
RT_DRAWING = NS_R + "/drawing"
RT_TABLE = NS_R + "/table"
RT_HYPERLINK = NS_R + "/hyperlink"
RT_VML = NS_R + "/vmlDrawing"
RT_COMMENTS = NS_R + "/comments"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"

#: Content types of a workbook part this writer understands (xlsx, xlsm, xltx, xltm, xlam).
CT_WORKBOOKS = frozenset({
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    "application/vnd.ms-excel.addin.macroEnabled.main+xml",
})

_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# every "_" that starts an "_xHHHH_" sequence (a lookahead, so overlapping ones are all found)
_X_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")

_TOKEN = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<![^>]*>"
    r"|<(/?)([^\s/>!?]+)((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>",
    re.S,
)

_ATTR = re.compile(r"([^\s=/>]+)\s*=\s*(\"[^\"]*\"|'[^']*')")


@dataclass(eq=False)
class _Node:
    """Where an element sits in the text: ``text[start:tag_end]`` is its start tag,
    ``text[close_start:end]`` its end tag (``close_start`` is ``None`` when self-closing)."""

    qname: str
    start: int
    tag_end: int
    close_start: int | None = None
    end: int = -1
    children: list[_Node] = field(default_factory=list)

    @property
    def local(self) -> str:
        return self.qname.rpartition(":")[2]

    @property
    def prefix(self) -> str:
        """``"x:"`` for ``<x:fonts>``, ``""`` for ``<fonts>``."""
        p, colon, _ = self.qname.rpartition(":")
        return p + colon

    def child(self, local: str) -> _Node | None:
        return next((c for c in self.children if c.local == local), None)


def _scan(text: str) -> _Node:
    """The element tree of ``text`` as positions (comments, PIs and CDATA skipped)."""
    root: _Node | None = None
    stack: list[_Node] = []
    for m in _TOKEN.finditer(text):
        name = m.group(2)
        if name is None:
            continue
        if m.group(1):
            node = stack.pop()
            node.close_start, node.end = m.start(), m.end()
            continue
        node = _Node(name, m.start(), m.end())
        if stack:
            stack[-1].children.append(node)
        elif root is None:
            root = node
        if m.group(4):
            node.end = m.end()
        else:
            stack.append(node)
    if root is None or stack:
        raise ValueError("malformed XML part")
    return root


def unescape(data: str, entities: dict[str, str] | None = None) -> str:
    """:func:`xml.sax.saxutils.unescape` (``&lt;``, ``&gt;``, ``entities``, then ``&amp;``),
    without importing :mod:`xml.sax.saxutils`, which imports :mod:`urllib.request` (and with
    it ``http``, ``ssl`` and ``email``: a tenth of a recalc's own start-up)."""
    data = data.replace("&lt;", "<").replace("&gt;", ">")
    for key, value in (entities or {}).items():
        data = data.replace(key, value)
    return data.replace("&amp;", "&")


def _attr(tag: str, name: str) -> str | None:
    """Value of attribute ``name`` in the start tag text ``tag`` (entities decoded)."""
    for m in _ATTR.finditer(tag):
        if m.group(1) == name:
            return unescape(m.group(2)[1:-1], {"&quot;": '"', "&apos;": "'"})
    return None


def _attrs(tag: str) -> dict[str, str]:
    """Every attribute of the start tag text ``tag`` (entities decoded), in document order."""
    return {m.group(1): unescape(m.group(2)[1:-1], {"&quot;": '"', "&apos;": "'"})
            for m in _ATTR.finditer(tag) if not m.group(1).startswith("xmlns")}


def _set_attr(tag: str, name: str, value: str) -> str:
    """The start tag text ``tag`` with attribute ``name`` set to ``value``."""
    for m in _ATTR.finditer(tag):
        if m.group(1) == name:
            return f'{tag[:m.start(2)]}"{_esc_attr(value)}"{tag[m.end(2):]}'
    m2 = re.search(r"\s*/?>$", tag)
    assert m2 is not None
    return f'{tag[:m2.start()]} {name}="{_esc_attr(value)}"{tag[m2.start():]}'


def _open_tag(tag: str) -> str:
    """``<a x="1"/>`` -> ``<a x="1">``."""
    return re.sub(r"\s*/>$", ">", tag)


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Apply non-overlapping replacements ``(start, end, new)``; equal starts keep their order."""
    out: list[str] = []
    pos = 0
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < pos:
            raise AssertionError("overlapping edits")
        out.append(text[pos:start])
        out.append(new)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _ns_prefix(tag: str, uri: str) -> str | None:
    """The prefix (``"r"``) the start tag ``tag`` binds to ``uri``; ``""`` for the default."""
    for m in _ATTR.finditer(tag):
        key = m.group(1)
        if m.group(2)[1:-1] == uri and (key == "xmlns" or key.startswith("xmlns:")):
            return key[6:]
    return None


def _decode(data: bytes) -> tuple[str, str]:
    """Text of an XML part and the codec to encode it back with."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    return data.decode("utf-8"), "utf-8"


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _esc_attr(s: str) -> str:
    return (_esc(s).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")
            .replace("\r", "&#13;"))


def _parse(data: bytes) -> Any:
    """defusedxml-safe parse (no DTDs, no entity expansion)."""
    return DET.fromstring(data, forbid_dtd=True)


def _prefixed(xml: str, prefix: str) -> str:
    """Give every element of the (unprefixed, generated) snippet ``xml`` the prefix ``prefix``."""
    if not prefix:
        return xml
    return re.sub(r"<(/?)([A-Za-z])", lambda m: f"<{m.group(1)}{prefix}{m.group(2)}", xml)


def _append_children(text: str, root: _Node, local: str, body: str, count: int,
                     order: Sequence[str]) -> list[tuple[int, int, str]]:
    """Edits appending ``body`` to the child ``local`` of ``root`` (created in schema
    ``order`` if missing) and setting its ``count``."""
    node = root.child(local)
    p = root.prefix
    if node is None:
        later = order[order.index(local) + 1:]
        pos = next((c.start for c in root.children if c.local in later), root.close_start)
        assert pos is not None
        return [(pos, pos, f'<{p}{local} count="{count}">{body}</{p}{local}>')]
    tag = text[node.start:node.tag_end]
    if node.close_start is None:
        new = _set_attr(_open_tag(tag), "count", str(count))
        return [(node.start, node.end, f"{new}{body}</{node.qname}>")]
    return [(node.start, node.tag_end, _set_attr(tag, "count", str(count))),
            (node.close_start, node.close_start, body)]


def _text(s: str) -> str:
    """Cell text as XML character data: illegal characters removed, Excel's ``_xHHHH_``
    escapes applied, cut to Excel's maximum length."""
    if _ILLEGAL_XML.search(s):
        s = _ILLEGAL_XML.sub("", s)
    if len(s) > MAX_TEXT:
        s = s[:MAX_TEXT]
    if "_x" in s:
        s = _X_ESCAPE.sub("_x005F_", s)
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
