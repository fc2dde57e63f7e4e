"""Surgical writer: replace or add result sheets in an ``.xlsx``/``.xlsm`` package, touch nothing else.

:func:`splice_sheets` copies the zip package at ``src`` to ``dst`` entry by entry. Every entry
that need not change is copied with identical uncompressed bytes, in the same order and with
the same compression method (the deflate stream itself is recompressed, so compressed sizes
may differ). Only these parts may change:

* the replaced sheets' XML (same part name, same position, ``sheetId`` and ``r:id`` in
  ``workbook.xml``, so defined names with ``localSheetId``, formulas such as
  ``=Ranking!E2`` on other sheets and the sheet order stay valid) and their ``.rels``;
* ``xl/workbook.xml``: one ``<sheet>`` per appended sheet, ``fullCalcOnLoad="1"`` on
  ``<calcPr>`` when ``full_calc_on_load``, and the workbook-level defined names the writer
  owns when ``defined_names`` is given (below);
* ``xl/_rels/workbook.xml.rels`` and ``[Content_Types].xml``: relationships / overrides for
  appended sheets, and removal of those of the parts removed (below);
* ``xl/styles.xml``: fonts, fills, borders, number formats and cell formats (``cellXfs``)
  the workbook lacks are *appended* (an identical entry, compared by meaning, is reused, so
  the part does not grow with every recalc); existing entries are never reordered or
  changed, so every style index already used in the workbook keeps its meaning. Custom number formats get ids >= 164 that
  do not clash with the existing ones; ``count`` attributes are updated;
* ``xl/calcChain.xml`` is removed (with its relationship and content-type override) when a
  sheet is replaced: its entries may name cells that no longer hold formulas, which Excel
  reports as corruption; Excel rebuilds the chain on load.

* a sheet given a :class:`RowAppend` (the Log): one ``<row>`` inserted into its XML below its
  last row holding a value; every other byte of the part and all its relationships kept.

Relationships of a replaced sheet: a ``drawing`` relationship is kept and re-emitted as
``<drawing r:id=…/>`` (a user's chart or picture on a result sheet survives, and so does the
data it points at by cell reference); a table starting in A1 (laid over the result table) is
kept and re-pointed at the new rows and header (``<tableParts>``; the sheet then gets no
``autoFilter`` of its own); a table elsewhere that a formula or defined name uses makes the
splice fail with :class:`ValueError` naming them; every other one (comments and VML drawings,
in whose place the spec's header notes are written, below; form controls, tables, printer
settings, pivot tables, threaded comments, …) is dropped. Parts
that were reachable from the package root before the splice and are not any more are then
removed together with their ``.rels`` and content-type overrides; a part still referenced by
anything else stays. Parts that were already unreachable are left alone.

Native charts (a :class:`SheetSpec` with a ``drawing``, see :mod:`~xl_aiindex.workbook.charts`;
the Charts and Compare sheets): the sheet's drawing and chart parts are kept byte for byte when
they already hold exactly what would be written (a recalc that only changes numbers); otherwise
new ``xl/drawings/drawingN.xml`` and ``xl/charts/chartN.xml`` parts (with their ``.rels`` and
content-type overrides) are added under unused names and the old ones, no longer reachable,
removed as above (such a sheet is the tool's: a chart added there by hand is redrawn too). A
drawing holding anything but charts (pictures, shapes, text boxes) is refused (``ValueError``),
never dropped. Specs without a drawing keep the rule above.

Header notes (``SheetSpec.header_notes``, 0-based column -> text): cell comments on row 1,
written as xlsxwriter and Excel write them: an ``xl/commentsN.xml`` part (author
``xl-aiindex``) and the legacy VML drawing Excel needs to show them
(``xl/drawings/vmlDrawingN.vml``, hidden note boxes anchored beside their cells; ``<o:idmap>``
blocks, and so shape ids, unique in the workbook, so they never clash with a button's), with
``<legacyDrawing r:id=…/>`` in the sheet, an override for the comments part and a ``Default``
content type for ``vml`` when the package has none. As with charts, the sheet's current parts
are kept byte for byte when they hold exactly what would be written (a recalc that changes no
note); otherwise new parts are added under unused names and the old ones, no longer reachable,
removed. A sheet whose old VML drawing holds anything but comment boxes (form controls such as
buttons, pictures) gets no notes: its relationships are dropped as above rather than notes
written over its controls. No notes: no comments part, no VML.

``sharedStrings.xml`` is never touched: text is written as inline strings
(``t="inlineStr"``), the text result of a formula as ``t="str"``. ``docProps/app.xml`` is
left as it was (its list of sheet titles is informational; Excel does not check it).

Why textual editing for the shared parts: ``workbook.xml``, ``styles.xml``, the ``.rels``
parts and ``[Content_Types].xml`` are first parsed with :mod:`defusedxml.ElementTree` (which
rejects DTDs and entity tricks, and gives the semantic view: sheet names, counts, the default
font, …), then edited by *inserting or deleting text at element boundaries* found by a small
tag scanner. An ``ElementTree`` round trip would rename namespace prefixes (``ns0:``) and
drop declarations that are only used in ``mc:Ignorable`` (``x14ac``, ``xr``, ``x15``, …),
which Excel reports as a corrupt file; textual insertion keeps every byte outside the edited
spots, so all prefixes, declarations, ``mc:AlternateContent`` blocks and extension lists
survive. Inserted elements use the prefix the surrounding element uses. The edited text is
parsed again to check it is well-formed.

Sheet XML is generated (never parsed back), in the order CT_Worksheet requires:
``sheetPr`` (tab colour; the old ``codeName`` is kept so VBA document modules still bind),
``dimension``, ``sheetViews`` (frozen pane from ``freeze``; the old sheet's ``tabSelected``,
zoom and grid-line settings are kept), ``sheetFormatPr``, ``cols``, ``sheetData``,
``autoFilter``, ``hyperlinks``, ``pageMargins``, ``drawing``, ``legacyDrawing``,
``tableParts``. It is streamed into the output
zip in chunks (memory independent of the sheet size). Values: numbers as ``repr(float)``,
booleans ``t="b"``, ``None``/NaN/±inf give no cell, text is always text (also when it starts
with ``=``, ``+``, ``-`` or ``@``) with XML-illegal control characters removed, ``_xHHHH_``
sequences escaped as Excel does (openpyxl shows such escapes verbatim; Excel, LibreOffice and
calamine decode them), line ends normalised to ``\\n`` and cut at Excel's 32,767 characters. A :class:`~xl_aiindex.workbook.sheetspec.Cell` with a formula gets ``<f>`` and,
unless the value is ``None``/NaN, a cached ``<v>``. Links: a cell reference
(``"'Data'!D5"``) becomes an internal ``location=`` hyperlink (no relationship); a URL
(``https:``, ``mailto:``, …) an external hyperlink relationship.

Defined names: with ``defined_names`` (name -> reference or formula text, without ``=``),
every workbook-level ``<definedName>`` whose name starts with ``owned_prefix`` (``xlai_``,
case-insensitive) is removed and the given names are added (sorted), all of which must carry
that prefix; names of the user (any other name, and every sheet-local name) are left byte for
byte. ``defined_names={}`` removes the writer's names; ``None`` (the default) leaves
``<definedNames>`` alone. An emptied ``<definedNames>`` element is removed; a missing one is
created where CT_Workbook puts it (before ``<calcPr>``).

Limits: header notes are plain text in one run (no rich text), on row 1 only, their boxes
sized and placed for 15 pt rows; formulas are written as ordinary cell formulas (no array / dynamic-array formulas, and
functions newer than Excel 2010 must carry their ``_xlfn.`` prefix); a stale
``_xlnm._FilterDatabase`` defined name of a replaced sheet is left as is (Excel fixes it when
the filter is next used); Strict Open XML packages and ``.xlsb`` are refused; a name that
matches a chart sheet or dialog sheet is refused.
"""

from __future__ import annotations

import contextlib
import datetime
import numbers
import os
import posixpath
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote
from xml.sax.saxutils import unescape

import defusedxml.ElementTree as DET

from xl_aiindex.workbook.cells import column_letter
from xl_aiindex.workbook.sheetspec import HEADER as _HEADER_STYLE
from xl_aiindex.workbook.sheetspec import Cell, SheetSpec, Style

__all__ = ["OWNED_PREFIX", "RowAppend", "check_splice", "package_parts", "sheet_kinds",
           "sheet_names", "splice_sheets"]

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
#: Author of the header notes (cell comments) this writer puts on result sheets.
NOTE_AUTHOR = "xl-aiindex"
#: Content types of a workbook part this writer understands (xlsx, xlsm, xltx, xltm, xlam).
CT_WORKBOOKS = frozenset({
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    "application/vnd.ms-excel.addin.macroEnabled.main+xml",
})

#: Timestamp of new zip entries (what Excel writes; keeps the output deterministic).
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

MAX_ROWS = 1_048_576
MAX_COLS = 16_384
MAX_TEXT = 32_767

_BUILTIN_NUM_FORMATS = {
    "General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10,
    "0.00E+00": 11, "@": 49,
}
_H_ALIGN = frozenset({"general", "left", "center", "right", "fill", "justify",
                      "centerContinuous", "distributed"})
_FORMULA_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
_STYLE_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles",
                "dxfs", "tableStyles", "colors", "extLst")
_AFTER_CALCPR = ("oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                 "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")
#: sheetView attributes carried over from a replaced sheet.
_KEPT_VIEW_ATTRS = ("tabSelected", "showGridLines", "showRowColHeaders", "showZeros",
                    "rightToLeft", "zoomScale", "zoomScaleNormal")
_KEPT_FORMAT_ATTRS = ("baseColWidth", "defaultColWidth", "defaultRowHeight")

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# every "_" that starts an "_xHHHH_" sequence (a lookahead, so overlapping ones are all found)
_X_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_HEX_COLOR = re.compile(r"#?([0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
#: Prefix of the defined names this writer owns (adds, replaces, removes).
OWNED_PREFIX = "xlai_"
#: What Excel accepts as a defined name (letters, digits, ``_``, ``.``, ``\``; no cell look-alike
#: is possible once the owned prefix leads).
_NAME = re.compile(r"[A-Za-z_\\][A-Za-z0-9_.\\]*")
_MAX_NAME = 255


# --------------------------------------------------------------------------------------------
# public API


def _workbook_part(pkg: _Package) -> str:
    """The workbook part of the package (the target of its officeDocument relationship)."""
    wb_rel = next((r for r in pkg.rels.get("", []) if r.type == RT_OFFICE_DOCUMENT), None)
    wb_part = None if wb_rel is None else pkg.resolve("", wb_rel)
    if wb_part is None:
        raise ValueError("package has no workbook part (officeDocument relationship)")
    return wb_part


def package_parts(path: str | os.PathLike[str] | IO[bytes]) -> dict[str, bytes]:
    """Every zip entry of the package at ``path``: name -> uncompressed bytes (in entry order)."""
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def sheet_names(path: str | os.PathLike[str] | IO[bytes]) -> list[str]:
    """Names of the sheets of the workbook at ``path``, in workbook order (any sheet type)."""
    with zipfile.ZipFile(path) as zin:
        pkg = _Package(zin)
        wb_part = _workbook_part(pkg)
        root = _parse(zin.read(wb_part))
    sheets = root.find(f"{{{NS_MAIN}}}sheets")
    return [] if sheets is None else [el.get("name", "") for el in sheets]


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


def sheet_kinds(path: str | os.PathLike[str] | IO[bytes]) -> dict[str, str]:
    """Each sheet's kind by name, in workbook order: ``worksheet``, ``chartsheet``,
    ``dialogsheet``, ``xlMacrosheet``, ``xlIntlMacrosheet`` (the relationship type's last
    part; ``missing`` when the sheet has no part)."""
    with zipfile.ZipFile(path) as zin:
        pkg = _Package(zin)
        wb_part = _workbook_part(pkg)
        root = _parse(zin.read(wb_part))
        rels = {r.id: r for r in pkg.rels.get(wb_part, [])}
    sheets = root.find(f"{{{NS_MAIN}}}sheets")
    out: dict[str, str] = {}
    for el in [] if sheets is None else sheets:
        rel = rels.get(el.get(f"{{{NS_R}}}id", ""))
        out[el.get("name", "")] = "missing" if rel is None else rel.type.rpartition("/")[2]
    return out


def splice_sheets(src: str | os.PathLike[str] | IO[bytes], dst: str | os.PathLike[str] | IO[bytes],
                  sheets: Sequence[SheetSpec], *, full_calc_on_load: bool = False,
                  defined_names: Mapping[str, str] | None = None,
                  owned_prefix: str = OWNED_PREFIX, very_hidden: Sequence[str] = (),
                  appends: Sequence[RowAppend] = ()) -> None:
    """Copy the package at src to dst, replacing each sheet whose name matches a SheetSpec
    (case-insensitive, surrounding spaces ignored) and appending the others at the end.

    ``dst`` may be ``src``: a path is written to a temporary file in the same directory and
    moved into place only when complete. ``full_calc_on_load`` sets
    ``<calcPr fullCalcOnLoad="1"/>`` so Excel recalculates every formula when it opens the file.
    ``defined_names`` (name -> reference such as ``'Data'!$C$2:$C$31``, without ``=``):
    replaces every workbook-level name starting with ``owned_prefix`` by these (each must start
    with it); other names are untouched; None leaves the names alone.
    Raises :class:`ValueError` for a package that is not a (transitional) SpreadsheetML
    workbook, an invalid or duplicate sheet name, a name matching a non-worksheet sheet, or
    a defined name that is invalid or lacks the owned prefix. ``very_hidden``: names of
    appended sheets to add with ``state="veryHidden"`` (replaced sheets keep their state).
    ``appends``: rows appended to existing sheets (:class:`RowAppend`; the Log), or new
    sheets holding them.
    """
    specs = list(sheets)
    names = None if defined_names is None else _check_names(defined_names, owned_prefix)
    with zipfile.ZipFile(src) as zin:
        plan = _plan(zin, specs, full_calc_on_load, names, owned_prefix, very_hidden,
                     list(appends))
        if isinstance(dst, str | os.PathLike):
            target = Path(dst)
            fd, tmp = tempfile.mkstemp(prefix=".~splice-", suffix=target.suffix,
                                       dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    _write_package(zin, fh, plan)
                if target.exists() or isinstance(src, str | os.PathLike):
                    shutil.copymode(target if target.exists() else src, tmp)  # type: ignore[arg-type]
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        else:
            _write_package(zin, dst, plan)


def check_splice(src: str | os.PathLike[str], sheets: Sequence[SheetSpec], *,
                 appends: Sequence[RowAppend] = ()) -> None:
    """Plan :func:`splice_sheets` of ``sheets`` into ``src`` without writing anything: raises
    the same :class:`ValueError` the splice would (a sheet that is not a worksheet, a table
    that formulas use, a package this writer cannot rewrite)."""
    with zipfile.ZipFile(src) as zin:
        _plan(zin, list(sheets), False, None, OWNED_PREFIX, (), list(appends))


# --------------------------------------------------------------------------------------------
# a tiny tag scanner for textual edits


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


def _attr(tag: str, name: str) -> str | None:
    """Value of attribute ``name`` in the start tag text ``tag`` (entities decoded)."""
    for m in _ATTR.finditer(tag):
        if m.group(1) == name:
            return unescape(m.group(2)[1:-1], {"&quot;": '"', "&apos;": "'"})
    return None


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


# --------------------------------------------------------------------------------------------
# package structure


@dataclass(frozen=True)
class _Rel:
    id: str
    type: str
    target: str
    external: bool


def _rels_name(part: str) -> str:
    """``xl/worksheets/sheet1.xml`` -> ``xl/worksheets/_rels/sheet1.xml.rels``."""
    d, _, base = part.rpartition("/")
    return f"{d}/_rels/{base}.rels" if d else f"_rels/{base}.rels"


def _source_of(rels: str) -> str | None:
    """Inverse of :func:`_rels_name` (``""`` is the package itself); None if not a rels name."""
    m = re.fullmatch(r"(?:(.*)/)?_rels/([^/]*)\.rels", rels, re.I)
    if m is None:
        return None
    d, base = m.group(1), m.group(2)
    return f"{d}/{base}" if d else base


def _parse_rels(data: bytes) -> list[_Rel]:
    root = _parse(data)
    rels = []
    for el in root:
        if el.tag != f"{{{NS_PKG_REL}}}Relationship":
            continue
        rels.append(_Rel(el.get("Id", ""), el.get("Type", ""), el.get("Target", ""),
                         el.get("TargetMode", "Internal") == "External"))
    return rels


class _Package:
    """Names and relationships of the source zip (OPC names are case-insensitive)."""

    def __init__(self, zin: zipfile.ZipFile) -> None:
        self.zin = zin
        self.infos = zin.infolist()
        self.names = [i.filename for i in self.infos]
        self.by_lower = {n.lower(): n for n in self.names}
        self.rels: dict[str, list[_Rel]] = {}   # source part ("" = package) -> relationships
        self.rels_entry: dict[str, str] = {}    # source part -> name of its .rels entry
        for name in self.names:
            source = _source_of(name)
            if source is not None and name.lower().endswith(".rels"):
                src = self.actual(source) if source else ""
                if src is None:
                    src = source
                self.rels[src] = _parse_rels(zin.read(name))
                self.rels_entry[src] = name

    def actual(self, name: str) -> str | None:
        """The zip entry name of part ``name`` (case-insensitive, percent-decoding tried)."""
        hit = self.by_lower.get(name.lower())
        if hit is None and "%" in name:
            hit = self.by_lower.get(unquote(name).lower())
        return hit

    def resolve(self, source: str, rel: _Rel) -> str | None:
        """Entry name of the internal target of ``rel`` from part ``source``."""
        if rel.external:
            return None
        target = rel.target.split("#", 1)[0]
        if not target:
            return None
        if target.startswith("/"):
            path = target[1:]
        else:
            path = posixpath.join(posixpath.dirname(source), target)
        path = posixpath.normpath(path)
        return self.actual(path)

    def reachable(self, rels: dict[str, list[_Rel]]) -> set[str]:
        """Parts reachable from the package root through ``rels``."""
        seen: set[str] = set()
        todo = [""]
        while todo:
            source = todo.pop()
            for rel in rels.get(source, ()):
                part = self.resolve(source, rel)
                if part is not None and part not in seen:
                    seen.add(part)
                    todo.append(part)
        return seen


# --------------------------------------------------------------------------------------------
# styles


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


# --------------------------------------------------------------------------------------------
# planning


@dataclass
class _SheetJob:
    spec: SheetSpec
    part: str                                    # zip entry name of the sheet XML
    name: str                                    # sheet name as in workbook.xml
    replaced: bool
    drawing: _Rel | None = None                  # kept drawing relationship
    table: _Rel | None = None                    # kept (re-pointed) table relationship
    vml: _Rel | None = None                      # header notes: legacy VML drawing
    comments: _Rel | None = None                 # header notes: comments part
    old_vml: list[_Rel] = field(default_factory=list)    # the old sheet's VML relationships
    old_rel_ids: set[str] = field(default_factory=set)   # ids a new relationship must avoid
    external: dict[str, str] = field(default_factory=dict)   # URL -> rId
    code_name: str | None = None
    view_attrs: dict[str, str] = field(default_factory=dict)
    format_attrs: dict[str, str] = field(default_factory=dict)
    n_rows: int = 0
    n_cols: int = 0

    @property
    def rels_xml(self) -> bytes | None:
        rels = []
        if self.drawing is not None:
            rels.append(f'<Relationship Id="{_esc_attr(self.drawing.id)}" Type="{RT_DRAWING}" '
                        f'Target="{_esc_attr(self.drawing.target)}"/>')
        for rel in (self.vml, self.comments):
            if rel is not None:
                rels.append(f'<Relationship Id="{_esc_attr(rel.id)}" Type="{rel.type}" '
                            f'Target="{_esc_attr(rel.target)}"/>')
        if self.table is not None:
            rels.append(f'<Relationship Id="{_esc_attr(self.table.id)}" Type="{RT_TABLE}" '
                        f'Target="{_esc_attr(self.table.target)}"/>')
        for url, rid in self.external.items():
            rels.append(f'<Relationship Id="{rid}" Type="{RT_HYPERLINK}" '
                        f'Target="{_esc_attr(url)}" TargetMode="External"/>')
        if not rels:
            return None
        return (f'{_XML_DECL}<Relationships xmlns="{NS_PKG_REL}">{"".join(rels)}'
                "</Relationships>").encode()


@dataclass
class _Plan:
    jobs: dict[str, _SheetJob]          # replaced sheet entry -> job
    new_jobs: list[_SheetJob]           # appended sheets
    rewritten: dict[str, bytes | None]  # entry -> new bytes (None: drop the entry)
    removed: set[str]
    added: dict[str, bytes]             # new non-sheet entries (rels, created styles part)
    insert_after: str | None            # entry after which appended sheets are written
    xf_attr: dict[Style, str]


def _sheet_key(name: str) -> str:
    return name.strip().casefold()


def _check_new_name(name: str) -> None:
    if not name or len(name) > 31:
        raise ValueError(f"sheet name must have 1 to 31 characters: {name!r}")
    if _BAD_SHEET_CHARS.search(name) or name.startswith("'") or name.endswith("'"):
        raise ValueError(f"sheet name may not contain []:*?/\\ or start/end with ': {name!r}")
    if name.casefold() == "history":
        raise ValueError("'History' is a reserved sheet name")


def _old_sheet_head(zin: zipfile.ZipFile, part: str) -> tuple[str | None, dict[str, str],
                                                               dict[str, str]]:
    """codeName, first sheetView's kept attributes and sheetFormatPr's kept attributes of an
    existing sheet, read incrementally up to ``<sheetData>`` (the old sheet may be large)."""
    code_name: str | None = None
    view: dict[str, str] = {}
    fmt: dict[str, str] = {}
    seen_view = False
    with zin.open(part) as fh:
        for _event, el in DET.iterparse(fh, events=("start",), forbid_dtd=True):
            local = el.tag.rpartition("}")[2] if isinstance(el.tag, str) else ""
            if local == "sheetPr":
                code_name = el.get("codeName")
            elif local == "sheetView" and not seen_view:
                seen_view = True
                view = {k: el.get(k) for k in _KEPT_VIEW_ATTRS if el.get(k) is not None}
            elif local == "sheetFormatPr":
                fmt = {k: el.get(k) for k in _KEPT_FORMAT_ATTRS if el.get(k) is not None}
            elif local in ("sheetData", "cols"):
                break
    return code_name, view, fmt


def _next_id(taken: set[str], prefix: str = "rId") -> Iterator[str]:
    n = 1
    while True:
        cand = f"{prefix}{n}"
        if cand not in taken:
            taken.add(cand)
            yield cand
        n += 1


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


def _plan(zin: zipfile.ZipFile, specs: list[SheetSpec], full_calc_on_load: bool,
          names: dict[str, str] | None = None, owned_prefix: str = OWNED_PREFIX,
          very_hidden: Sequence[str] = (), appends: Sequence[RowAppend] = ()) -> _Plan:
    pkg = _Package(zin)
    ct_name = pkg.actual("[Content_Types].xml")
    if ct_name is None or "" not in pkg.rels:
        raise ValueError("not an Open XML package (no [Content_Types].xml or _rels/.rels)")
    wb_part = _workbook_part(pkg)
    ct_root = _parse(zin.read(ct_name))
    overrides = {el.get("PartName", "").lower(): el.get("ContentType", "")
                 for el in ct_root if el.tag == f"{{{NS_CT}}}Override"}
    wb_ct = overrides.get("/" + wb_part.lower(), "")
    wb_xml = zin.read(wb_part)
    wb_root = _parse(wb_xml)
    if wb_root.tag == f"{{{NS_STRICT_MAIN}}}workbook":
        raise ValueError("Strict Open XML workbooks are not supported; save as Excel Workbook")
    if wb_root.tag != f"{{{NS_MAIN}}}workbook" or (wb_ct and wb_ct not in CT_WORKBOOKS):
        raise ValueError(f"unsupported workbook part {wb_part!r} ({wb_ct or wb_root.tag})")

    # existing sheets and the specs that match them
    wb_rels = {r.id: r for r in pkg.rels.get(wb_part, [])}
    existing: dict[str, tuple[str, str]] = {}   # key -> (name, r:id)
    sheet_ids: list[int] = []
    sheets_el = wb_root.find(f"{{{NS_MAIN}}}sheets")
    for el in [] if sheets_el is None else sheets_el:
        name = el.get("name", "")
        existing.setdefault(_sheet_key(name), (name, el.get(f"{{{NS_R}}}id", "")))
        with contextlib.suppress(ValueError):
            sheet_ids.append(int(el.get("sheetId", "0")))
    if sheets_el is None:
        raise ValueError("workbook.xml has no <sheets>")

    seen: set[str] = set()
    jobs: dict[str, _SheetJob] = {}
    new_specs: list[SheetSpec] = []

    def worksheet_part(name_rid: tuple[str, str], refusal: str) -> tuple[str, str]:
        """The part of an existing sheet (name, relationship id), which must be a worksheet."""
        name, rid = name_rid
        rel = wb_rels.get(rid)
        part = None if rel is None else pkg.resolve(wb_part, rel)
        if rel is None or part is None:
            raise ValueError(f"sheet {name!r} has no part in the package")
        if rel.type != RT_WORKSHEET:
            raise ValueError(f"sheet {name!r} is not a worksheet ({rel.type.rpartition('/')[2]})"
                             f"; {refusal}")
        return name, part

    for spec in specs:
        key = _sheet_key(spec.name)
        if key in seen:
            raise ValueError(f"two sheet specs named {spec.name.strip()!r}")
        seen.add(key)
        if key not in existing:
            _check_new_name(spec.name.strip())
            new_specs.append(spec)
            continue
        name, part = worksheet_part(existing[key], "it cannot be replaced")
        job = _SheetJob(spec, part, name, replaced=True)
        job.drawing = next((r for r in pkg.rels.get(part, [])
                            if r.type == RT_DRAWING and not r.external), None)
        job.code_name, job.view_attrs, job.format_attrs = _old_sheet_head(zin, part)
        job.old_rel_ids = {r.id for r in pkg.rels.get(part, [])}
        job.old_vml = [r for r in pkg.rels.get(part, []) if r.type == RT_VML and not r.external]
        jobs[part] = job

    appended_rows: dict[str, bytes] = {}
    for app in appends:
        key = _sheet_key(app.sheet)
        if key in seen:
            raise ValueError(f"sheet {app.sheet.strip()!r} both replaced and appended to")
        seen.add(key)
        if key not in existing:
            _check_new_name(app.sheet.strip())
            width = max([*app.header, *app.cells], default=-1) + 1
            head = [Cell(app.header.get(c), style=_HEADER_STYLE) for c in range(width)]
            row = [Cell(None if app.cells.get(c) == "" else app.cells.get(c))
                   for c in range(width)]
            new_specs.append(SheetSpec(app.sheet.strip(), [head, row], dict(app.widths)))
            continue
        name, part = worksheet_part(existing[key], "no row can be appended to it")
        appended_rows[part] = _append_row(zin.read(part), app)
    hidden_keys = {_sheet_key(n) for n in very_hidden}
    new_specs.sort(key=lambda sp: _sheet_key(sp.name) in hidden_keys)   # hidden ones last

    # appended sheets: part names, sheetIds and relationship ids that clash with nothing
    taken_ids = set(wb_rels)
    rid_gen = _next_id(taken_ids)
    sheet_parts = [pkg.resolve(wb_part, r) for r in wb_rels.values() if r.type == RT_WORKSHEET]
    sheet_dir = next((posixpath.dirname(p) for p in sheet_parts if p),
                     posixpath.join(posixpath.dirname(wb_part), "worksheets"))
    next_sheet_id = max(sheet_ids, default=0) + 1
    new_jobs: list[_SheetJob] = []
    wb_inserts: list[tuple[str, int, str]] = []
    rel_inserts: list[str] = []
    ct_inserts: list[str] = []
    n = 1
    for spec in new_specs:
        while (pkg.actual(f"{sheet_dir}/sheet{n}.xml") is not None
               or pkg.actual(_rels_name(f"{sheet_dir}/sheet{n}.xml")) is not None):
            n += 1
        part = f"{sheet_dir}/sheet{n}.xml"
        n += 1
        rid = next(rid_gen)
        name = spec.name.strip()
        new_jobs.append(_SheetJob(spec, part, name, replaced=False))
        wb_inserts.append((name, next_sheet_id, rid))
        next_sheet_id += 1
        target = posixpath.relpath(part, posixpath.dirname(wb_part) or ".")
        rel_inserts.append(f'<Relationship Id="{rid}" Type="{RT_WORKSHEET}" '
                           f'Target="{_esc_attr(target)}"/>')
        ct_inserts.append(f'<Override PartName="/{_esc_attr(part)}" '
                          f'ContentType="{CT_WORKSHEET}"/>')

    # native charts of the tool's own sheets (Charts, Compare): drawing and chart parts
    chart_parts = _plan_drawings(zin, pkg, [*jobs.values(), *new_jobs])
    ct_inserts.extend(chart_parts.ct_inserts)
    # header notes: comments and legacy VML parts
    has_vml_default = any(el.tag == f"{{{NS_CT}}}Default"
                          and el.get("Extension", "").lower() == "vml" for el in ct_root)
    note_parts = _plan_notes(zin, pkg, [*jobs.values(), *new_jobs], has_vml_default)
    ct_inserts.extend(note_parts.ct_inserts)

    # one pass over the cells: table size, distinct styles, external links
    styles_rel = next((r for r in wb_rels.values() if r.type == RT_STYLES), None)
    styles_part = None if styles_rel is None else pkg.resolve(wb_part, styles_rel)
    book = _StyleBook(None if styles_part is None else zin.read(styles_part))
    xf_attr: dict[Style, str] = {}
    for job in [*jobs.values(), *new_jobs]:
        _survey(job, book, xf_attr)

    # relationships after the splice -> parts that are no longer reachable
    new_rels = dict(pkg.rels)
    wb_rel_list = list(pkg.rels.get(wb_part, []))
    dropped_wb_rels = ({r.id for r in wb_rel_list if r.type == RT_CALC_CHAIN} if jobs
                       else set())
    new_rels[wb_part] = [r for r in wb_rel_list if r.id not in dropped_wb_rels]
    repointed: dict[str, bytes] = {}
    dropped_tables: list[tuple[str, str]] = []    # (table name, sheet name)
    for part, job in jobs.items():
        for rel in pkg.rels.get(part, []):
            table_part = None if rel.type != RT_TABLE else pkg.resolve(part, rel)
            if table_part is None:
                continue
            data = zin.read(table_part)
            new = _repoint_table(data, job) if job.table is None else None
            if new is not None:
                job.table = rel
                repointed[table_part] = new
            else:
                tag = _parse(data)
                dropped_tables.append((tag.get("name") or tag.get("displayName") or "",
                                       job.name))
        kept = [r for r in (job.drawing, job.vml, job.comments, job.table) if r is not None]
        new_rels[part] = kept
    if dropped_tables:
        users = _table_users(zin, pkg, wb_part, wb_rels, set(jobs), dropped_tables)
        if users:
            raise ValueError("; ".join(users) + ": these formulas would break, as the table is "
                             "removed with the sheet's old content; move the table to a sheet "
                             "of your own")
    removed = (pkg.reachable(pkg.rels) - pkg.reachable(new_rels)) - {ct_name}
    for part in list(removed):
        rels_entry = pkg.rels_entry.get(part)
        if rels_entry is not None:
            removed.add(rels_entry)

    rewritten: dict[str, bytes | None] = {**appended_rows, **repointed}
    added: dict[str, bytes] = {**chart_parts.added, **note_parts.added}
    for part, job in jobs.items():
        rels_xml = job.rels_xml
        entry = pkg.rels_entry.get(part)
        if entry is not None:
            rewritten[entry] = rels_xml
        elif rels_xml is not None:
            added[_rels_name(part)] = rels_xml
    for job in new_jobs:
        rels_xml = job.rels_xml
        if rels_xml is not None:
            added[_rels_name(job.part)] = rels_xml

    if book.changed and styles_part is None:
        styles_part = posixpath.join(posixpath.dirname(wb_part), "styles.xml")
        if pkg.actual(styles_part) is not None:
            raise ValueError(f"{styles_part} exists but is not the workbook's styles part")
        added[styles_part] = book.render()
        rid = next(rid_gen)
        rel_inserts.append(f'<Relationship Id="{rid}" Type="{RT_STYLES}" Target="styles.xml"/>')
        ct_inserts.append(f'<Override PartName="/{_esc_attr(styles_part)}" '
                          f'ContentType="{CT_STYLES}"/>')
    elif book.changed and styles_part is not None:
        rewritten[styles_part] = book.render()

    # workbook.xml
    if wb_inserts or full_calc_on_load or names is not None:
        new_wb = _edit_workbook(wb_xml, wb_inserts, full_calc_on_load, names, owned_prefix,
                                {n.strip().casefold() for n in very_hidden})
        if new_wb != wb_xml:
            rewritten[wb_part] = new_wb
    # workbook rels
    wb_rels_entry = pkg.rels_entry.get(wb_part)
    if rel_inserts or dropped_wb_rels:
        if wb_rels_entry is None:
            wb_rels_entry = _rels_name(wb_part)
            added[wb_rels_entry] = (f'{_XML_DECL}<Relationships xmlns="{NS_PKG_REL}">'
                                    f'{"".join(rel_inserts)}</Relationships>').encode()
        else:
            rewritten[wb_rels_entry] = _edit_list(
                zin.read(wb_rels_entry), "Id", dropped_wb_rels, rel_inserts)
    # content types
    drop_ct = {"/" + p.lower() for p in removed}
    if ct_inserts or drop_ct & set(overrides):
        rewritten[ct_name] = _edit_list(zin.read(ct_name), "PartName", drop_ct, ct_inserts,
                                        casefold=True)

    insert_after = None
    prefix = sheet_dir.lower() + "/"
    for name in pkg.names:
        if name.lower().startswith(prefix):
            insert_after = name
    for entry in rewritten:
        removed.discard(entry)
    return _Plan(jobs, new_jobs, rewritten, removed, added, insert_after, xf_attr)


_ROW_TAG = re.compile(r"<((?:[A-Za-z_][\w.-]*:)?)row\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>")
_HAS_VALUE = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(?:v|is|f)[\s>/]")
_CELL_TAG = re.compile(r"<((?:[A-Za-z_][\w.-]*:)?)c\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>")
_REF_PARTS = re.compile(r"([A-Z]{1,3})([0-9]+)")


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


# --------------------------------------------------------------------------------------------
# drawings and charts (a SheetSpec with a ``drawing``: the tool's own charts)


@dataclass
class _ChartParts:
    added: dict[str, bytes] = field(default_factory=dict)   # new drawing, chart and rels parts
    ct_inserts: list[str] = field(default_factory=list)     # their content-type overrides


def _plan_drawings(zin: zipfile.ZipFile, pkg: _Package, jobs: Sequence[_SheetJob]
                   ) -> _ChartParts:
    """Decide the drawing of every sheet whose spec carries one (``SheetSpec.drawing``).

    Unchanged parts (the sheet's current drawing and its charts hold exactly the bytes that
    would be written) are kept as they are, so a recalc that only changes cell values leaves
    the chart parts byte-identical; otherwise new drawing and chart parts are added under
    unused names and the old ones, no longer reachable, are removed with the rest. An empty
    drawing removes the sheet's drawing. Specs without a drawing keep today's rule: the sheet's
    drawing relationship is kept."""
    from .charts import CT_CHART, CT_DRAWING, RT_CHART, charts_only, drawing_xml

    out = _ChartParts()
    taken = {n.lower() for n in pkg.names}
    for job in jobs:
        spec_drawing = job.spec.drawing
        if spec_drawing is None:
            continue
        if job.drawing is not None:
            old_part = pkg.resolve(job.part, job.drawing)
            if old_part is not None and not charts_only(zin.read(old_part)):
                raise ValueError(f"sheet {job.name!r} has pictures or shapes xl-aiindex did "
                                 "not draw; move them to another sheet (xl-aiindex redraws "
                                 "this sheet's charts)")
        if not spec_drawing.charts:
            job.drawing = None
            continue
        charts = [xml for _, xml in spec_drawing.charts]
        rel_ids = [f"rId{i + 1}" for i in range(len(charts))]
        dxml = drawing_xml([a for a, _ in spec_drawing.charts], rel_ids)
        if job.drawing is not None and _same_drawing(zin, pkg, job, dxml, rel_ids, charts):
            continue
        d_part = _free_name(taken, "xl/drawings/drawing{}.xml")
        c_parts = [_free_name(taken, "xl/charts/chart{}.xml") for _ in charts]
        rels = "".join(
            f'<Relationship Id="{rid}" Type="{RT_CHART}" '
            f'Target="{posixpath.relpath(c, posixpath.dirname(d_part))}"/>'
            for rid, c in zip(rel_ids, c_parts, strict=True))
        out.added[d_part] = dxml
        out.added[_rels_name(d_part)] = (f'{_XML_DECL}<Relationships xmlns="{NS_PKG_REL}">'
                                         f"{rels}</Relationships>").encode()
        out.ct_inserts.append(f'<Override PartName="/{d_part}" ContentType="{CT_DRAWING}"/>')
        for c, xml in zip(c_parts, charts, strict=True):
            out.added[c] = xml
            out.ct_inserts.append(f'<Override PartName="/{c}" ContentType="{CT_CHART}"/>')
        rid = job.drawing.id if job.drawing is not None else next(_next_id(set(job.old_rel_ids)))
        job.drawing = _Rel(rid, RT_DRAWING, posixpath.relpath(d_part, posixpath.dirname(job.part)),
                           False)
    return out


def _same_drawing(zin: zipfile.ZipFile, pkg: _Package, job: _SheetJob, dxml: bytes,
                  rel_ids: Sequence[str], charts: Sequence[bytes]) -> bool:
    """Whether the sheet's current drawing is exactly ``dxml`` with ``charts`` behind
    ``rel_ids`` (and nothing else)."""
    assert job.drawing is not None
    d_part = pkg.resolve(job.part, job.drawing)
    if d_part is None or zin.read(d_part) != dxml:
        return False
    rels = {r.id: r for r in pkg.rels.get(d_part, [])}
    if set(rels) != set(rel_ids):
        return False
    for rid, xml in zip(rel_ids, charts, strict=True):
        target = pkg.resolve(d_part, rels[rid])
        if target is None or zin.read(target) != xml or pkg.rels.get(target):
            return False
    return True


def _free_name(taken: set[str], pattern: str) -> str:
    """The first ``pattern.format(n)`` (n = 1, 2, …) not taken (nor its .rels); marks it taken."""
    n = 1
    while True:
        name = pattern.format(n)
        if name.lower() not in taken and _rels_name(name).lower() not in taken:
            taken.add(name.lower())
            return name
        n += 1


# --------------------------------------------------------------------------------------------
# header notes (SheetSpec.header_notes): cell comments on row 1, written as Excel writes them


_VML_IDMAP = re.compile(r"<(?:\w+:)?idmap\b[^>]*?\bdata\s*=\s*[\"']([^\"']*)[\"']")
_VML_OBJECT_TYPE = re.compile(r"\bObjectType\s*=\s*[\"']([^\"']*)[\"']")
_VML_SHAPE = re.compile(r"<(?:\w+:)?shape[\s>/]")
#: VML elements that draw something other than a comment box (pictures, shapes, groups).
_VML_OTHER = re.compile(r"<(?:\w+:)?(?:rect|roundrect|oval|line|polyline|curve|arc|image|group)"
                        r"[\s>/]")
_VML_NS = ('<xml xmlns:v="urn:schemas-microsoft-com:vml" '
           'xmlns:o="urn:schemas-microsoft-com:office:office" '
           'xmlns:x="urn:schemas-microsoft-com:office:excel">')
_VML_SHAPETYPE = ('<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
                  'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
                  '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>')
#: Note box size in pixels: xlsxwriter's default (128 x 74) scaled as the input sheets' notes.
_NOTE_WIDTH = 307
_ROW_PX = 20            # a 15 pt row
_DEFAULT_COL_PX = 64    # Excel's default column (8.43 characters of Calibri 11)


def _vml_ids(data: bytes) -> set[int]:
    """The shape-id blocks (``<o:idmap data="1,2"/>``) a VML drawing claims."""
    out: set[int] = set()
    for m in _VML_IDMAP.finditer(data.decode("utf-8", "replace")):
        out.update(int(x) for x in re.findall(r"\d+", m.group(1)))
    return out


def _notes_only(data: bytes) -> bool:
    """Whether a legacy VML drawing holds nothing but comment boxes (no form controls, no
    pictures or shapes). Read with regular expressions, not an XML parser: Excel's VML is not
    always well-formed XML."""
    text = data.decode("utf-8", "replace")
    kinds = _VML_OBJECT_TYPE.findall(text)
    return (all(k == "Note" for k in kinds) and len(_VML_SHAPE.findall(text)) == len(kinds)
            and _VML_OTHER.search(text) is None)


def _note_list(spec: SheetSpec) -> list[tuple[int, str]]:
    """The header notes to write, by column: non-empty text on a column Excel has."""
    out = []
    for col, note in sorted(spec.header_notes.items()):
        if not isinstance(col, int) or not 0 <= col < MAX_COLS:
            raise ValueError(f"{spec.name}: header note on bad column {col!r}")
        if note is not None and str(note).strip():
            out.append((col, str(note)))
    return out


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _comments_xml(notes: Sequence[tuple[int, str]]) -> bytes:
    """The comments part of header notes ``(0-based column, text)`` on row 1, as xlsxwriter
    writes it (one author, Tahoma 8 text)."""
    items = []
    for col, note in notes:
        text = _text(note)
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
        items.append(f'<comment ref="{column_letter(col)}1" authorId="0"><text><r><rPr>'
                     '<sz val="8"/><color indexed="81"/><rFont val="Tahoma"/><family val="2"/>'
                     f"</rPr><t{space}>{text}</t></r></text></comment>")
    return (f'{_XML_DECL}<comments xmlns="{NS_MAIN}"><authors><author>{NOTE_AUTHOR}</author>'
            f'</authors><commentList>{"".join(items)}</commentList></comments>').encode()


def _vml_xml(notes: Sequence[tuple[int, str]], blocks: Sequence[int],
            widths: Mapping[int, float], default_px: int = _DEFAULT_COL_PX) -> bytes:
    """The legacy VML drawing Excel needs to show header notes ``(0-based column, text)`` on
    row 1: one hidden note box per note, placed as xlsxwriter places it (right of the cell,
    anchored to cells), shape ids from the id blocks ``blocks`` (``<o:idmap>``, unique in the
    workbook). ``widths``: column widths in characters (0-based column -> width)."""
    def col_px(c: int) -> int:
        w = widths.get(c)
        return default_px if w is None else int(min(float(w), 255.0) * 7 + 0.4921875)

    shapes = []
    for i, (col, note) in enumerate(notes):
        lines = max(2, sum(1 + _display_width(part) // 48 for part in note.split("\n")))
        height = int(0.5 + 74 * min(8.0, 0.35 * lines + 0.6))
        if col >= MAX_COLS - 3:     # Excel's edge rule: the box goes left of the last columns
            start, x1 = MAX_COLS - 6 + col - (MAX_COLS - 3), 49
        else:
            start, x1 = col + 1, 15
        x_abs = sum(col_px(c) for c in range(start)) + x1
        while x1 >= col_px(start) > 0:
            x1 -= col_px(start)
            start += 1
        end, x2 = start, _NOTE_WIDTH + x1
        while x2 >= col_px(end):
            x2 -= col_px(end)
            end += 1
        end_row, y2 = 0, 2 + height
        while y2 >= _ROW_PX:
            y2 -= _ROW_PX
            end_row += 1
        style = (f"position:absolute;margin-left:{x_abs * 0.75:.15g}pt;margin-top:1.5pt;"
                 f"width:{_NOTE_WIDTH * 0.75:.15g}pt;height:{height * 0.75:.15g}pt;"
                 f"z-index:{i + 1};visibility:hidden")
        shapes.append(
            f'<v:shape id="_x0000_s{1024 * blocks[0] + 1 + i}" type="#_x0000_t202" '
            f'style="{style}" fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
            '<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
            '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div>'
            '</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{start}, {x1}, 0, 2, {end}, {x2}, {end_row}, {y2}</x:Anchor>"
            f"<x:AutoFill>False</x:AutoFill><x:Row>0</x:Row><x:Column>{col}</x:Column>"
            "</x:ClientData></v:shape>")
    idmap = ",".join(str(b) for b in blocks)
    return (f'{_VML_NS}<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{idmap}"/>'
            f'</o:shapelayout>{_VML_SHAPETYPE}{"".join(shapes)}</xml>').encode()


def _plan_notes(zin: zipfile.ZipFile, pkg: _Package, jobs: Sequence[_SheetJob],
                has_vml_default: bool) -> _ChartParts:
    """Decide the comments and VML parts of every sheet whose spec has header notes.

    The sheet's current parts are kept byte for byte when they hold exactly what would be
    written (a recalc that changes no note); otherwise new ``xl/commentsN.xml`` and
    ``xl/drawings/vmlDrawingN.vml`` parts are added under unused names (the old ones, no longer
    reachable, are removed with the rest). A sheet whose old VML drawing holds anything but
    comment boxes (form controls, pictures) gets no notes: its old relationships are dropped as
    for any other result sheet, never half rewritten. Shape-id blocks (``<o:idmap>``) are the
    smallest not claimed by another VML drawing of the workbook, so a button's shape ids never
    clash with a note's."""
    out = _ChartParts()
    wanted = [(job, _note_list(job.spec)) for job in jobs]
    if not any(notes for _, notes in wanted):
        return out
    taken = {n.lower() for n in pkg.names}
    own_old = {pkg.resolve(job.part, r) for job in jobs for r in job.old_vml}
    used: set[int] = set()
    for name in pkg.names:
        if name.lower().endswith(".vml") and name not in own_old:
            used |= _vml_ids(zin.read(name))
    for job, notes in wanted:
        if not notes:
            continue
        old_parts = [p for p in (pkg.resolve(job.part, r) for r in job.old_vml) if p is not None]
        if any(not _notes_only(zin.read(p)) for p in old_parts):
            continue
        n_blocks = len(notes) // 1024 + 1
        first = 1
        while any(first + k in used for k in range(n_blocks)):
            first += 1
        blocks = list(range(first, first + n_blocks))
        used.update(blocks)
        default_px = _DEFAULT_COL_PX
        with contextlib.suppress(ValueError):
            dcw = job.format_attrs.get("defaultColWidth")
            if dcw is not None:
                default_px = int(float(dcw) * 7 + 0.4921875)
        vml = _vml_xml(notes, blocks, job.spec.widths, default_px)
        comments = _comments_xml(notes)
        old_comments = next((r for r in (pkg.rels.get(job.part, []) if job.replaced else [])
                             if r.type == RT_COMMENTS and not r.external), None)
        if len(job.old_vml) == 1 and old_comments is not None:
            v_part = pkg.resolve(job.part, job.old_vml[0])
            c_part = pkg.resolve(job.part, old_comments)
            if (v_part is not None and c_part is not None and zin.read(v_part) == vml
                    and zin.read(c_part) == comments and not pkg.rels.get(v_part)
                    and not pkg.rels.get(c_part)):
                job.vml, job.comments = job.old_vml[0], old_comments
                continue
        v_part = _free_name(taken, "xl/drawings/vmlDrawing{}.vml")
        c_part = _free_name(taken, "xl/comments{}.xml")
        ids = _next_id({*job.old_rel_ids, *([job.drawing.id] if job.drawing else [])})
        here = posixpath.dirname(job.part)
        job.vml = _Rel(next(ids), RT_VML, posixpath.relpath(v_part, here), False)
        job.comments = _Rel(next(ids), RT_COMMENTS, posixpath.relpath(c_part, here), False)
        out.added[v_part] = vml
        out.added[c_part] = comments
        out.ct_inserts.append(f'<Override PartName="/{c_part}" ContentType="{CT_COMMENTS}"/>')
        if not has_vml_default:
            out.ct_inserts.insert(0, f'<Default Extension="vml" ContentType="{CT_VML}"/>')
            has_vml_default = True
    return out


def _survey(job: _SheetJob, book: _StyleBook, xf_attr: dict[Style, str]) -> None:
    """Size, styles and external links of a sheet, before anything is written."""
    spec = job.spec
    fr = spec.freeze
    if (len(fr) != 2 or not all(isinstance(x, int) and x >= 0 for x in fr)
            or fr[0] >= MAX_ROWS or fr[1] >= MAX_COLS):
        raise ValueError(f"{spec.name}: freeze must be (rows, cols) >= 0, got {fr!r}")
    for col, width in spec.widths.items():
        if not 0 <= col < MAX_COLS or not width >= 0:
            raise ValueError(f"{spec.name}: bad column width {col}: {width!r}")
    if spec.tab_color is not None:
        _hex_argb(spec.tab_color, "SheetSpec.tab_color")
    n_cols = 0
    seen: dict[int, Style] = {}
    ext_ids = _next_id({*job.old_rel_ids, *(r.id for r in (job.drawing, job.vml, job.comments)
                                            if r is not None)})
    for row in spec.rows:
        if len(row) > n_cols:
            n_cols = len(row)
        for cell in row:
            st = cell.style
            if st is not None and seen.get(id(st)) is not st:
                seen[id(st)] = st
                if st not in xf_attr:
                    xf_attr[st] = "" if st == Style() else f' s="{book.xf(st)}"'
                if len(seen) > 4096:
                    seen.clear()
            link = cell.link
            if link is not None and _URL.match(link) and link not in job.external:
                job.external[link] = next(ext_ids)
    job.n_rows, job.n_cols = len(spec.rows), n_cols
    if job.n_rows > MAX_ROWS or n_cols > MAX_COLS:
        raise ValueError(f"{spec.name}: {job.n_rows} x {n_cols} exceeds Excel's "
                         f"{MAX_ROWS} x {MAX_COLS}")


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


# --------------------------------------------------------------------------------------------
# writing


def _clone(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(info.filename, info.date_time)
    zi.compress_type = info.compress_type
    zi.external_attr = info.external_attr
    zi.comment = info.comment
    zi.create_system = info.create_system
    zi.file_size = info.file_size
    return zi


def _new_info(name: str) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name, _ZIP_EPOCH)
    zi.compress_type = zipfile.ZIP_DEFLATED
    return zi


def _sheet_info(name: str) -> zipfile.ZipInfo:
    """A generated sheet's entry: deflate level 1, several times faster than the default level
    on the large, repetitive XML of a result sheet, for files about a quarter larger."""
    zi = _new_info(name)
    # ZipInfo.compress_level is public from Python 3.13; the attribute exists since 3.7
    zi._compresslevel = 1  # type: ignore[attr-defined]
    return zi


def _write_package(zin: zipfile.ZipFile, fh: IO[bytes], plan: _Plan) -> None:
    with zipfile.ZipFile(fh, "w", allowZip64=True) as zout:

        def write_new_sheets() -> None:
            for job in plan.new_jobs:
                _write_sheet(zout, _sheet_info(job.part), job, plan.xf_attr)
                rels = _rels_name(job.part)
                if rels in plan.added:
                    zout.writestr(_new_info(rels), plan.added.pop(rels))

        for info in zin.infolist():
            name = info.filename
            if name in plan.jobs:
                _write_sheet(zout, _clone(info), plan.jobs[name], plan.xf_attr)
            elif name in plan.rewritten:
                data = plan.rewritten[name]
                if data is not None:
                    zi = _clone(info)
                    zi.file_size = len(data)
                    zout.writestr(zi, data)
            elif name not in plan.removed:
                with zin.open(info) as r, zout.open(_clone(info), "w") as w:
                    shutil.copyfileobj(r, w, 1 << 20)
            if name == plan.insert_after:
                write_new_sheets()
        if plan.insert_after is None:
            write_new_sheets()
        for name, data in plan.added.items():
            zout.writestr(_new_info(name), data)
        zout.comment = zin.comment


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


def _write_sheet(zout: zipfile.ZipFile, zinfo: zipfile.ZipInfo, job: _SheetJob,
                 xf_attr: dict[Style, str]) -> None:
    spec = job.spec
    n_rows, n_cols = job.n_rows, job.n_cols
    letters = [column_letter(i) for i in range(n_cols)]
    last = f"{letters[-1]}{n_rows}" if n_rows and n_cols else ""
    force64 = n_rows * max(n_cols, 1) > 20_000_000
    with zout.open(zinfo, "w", force_zip64=force64) as out:
        out.write(_sheet_head(job, last).encode())
        buf: list[str] = []
        w = buf.append
        links: list[str] = []
        s_cache: dict[int, tuple[Style, str]] = {}
        inline = ' t="inlineStr"><is><t xml:space="preserve">'
        for r_idx, row in enumerate(spec.rows, 1):
            rn = str(r_idx)
            cells: list[str] = []
            c = cells.append
            for j, cell in enumerate(row):
                st = cell.style
                if st is None:
                    sa = ""
                else:
                    hit = s_cache.get(id(st))
                    if hit is None or hit[0] is not st:
                        if len(s_cache) > 4096:
                            s_cache.clear()
                        hit = s_cache[id(st)] = (st, xf_attr[st])
                    sa = hit[1]
                if cell.link is not None:
                    links.append(_hyperlink(f"{letters[j]}{rn}", cell.link, job))
                v: Any = cell.value
                f = cell.formula
                if f is None:
                    t = type(v)
                    if t is float:
                        if v - v == 0.0:   # finite
                            c(f'<c r="{letters[j]}{rn}"{sa}><v>{v!r}</v></c>')
                        continue
                    if t is str:
                        c(f'<c r="{letters[j]}{rn}"{sa}{inline}{_text(v)}</t></is></c>')
                        continue
                    if v is None:
                        continue
                    if t is not int and t is not bool:
                        v = _coerce(v)
                        t = type(v)
                        if v is None or (t is float and v - v != 0.0):
                            continue
                        if t is str:
                            c(f'<c r="{letters[j]}{rn}"{sa}{inline}{_text(v)}</t></is></c>')
                            continue
                    if t is bool:
                        c(f'<c r="{letters[j]}{rn}"{sa} t="b"><v>{1 if v else 0}</v></c>')
                    elif t is int:
                        num = str(v) if -(2**53) <= v <= 2**53 else repr(float(v))
                        c(f'<c r="{letters[j]}{rn}"{sa}><v>{num}</v></c>')
                    else:
                        c(f'<c r="{letters[j]}{rn}"{sa}><v>{v!r}</v></c>')
                else:
                    if f.startswith("="):
                        f = f[1:]
                    fx = _esc(_ILLEGAL_XML.sub("", f))
                    cached = _value_xml(v)
                    if cached is None:
                        c(f'<c r="{letters[j]}{rn}"{sa}><f>{fx}</f></c>')
                    else:
                        c(f'<c r="{letters[j]}{rn}"{sa}{cached[0]}><f>{fx}</f>'
                          f"<v>{cached[1]}</v></c>")
            if cells:
                w(f'<row r="{rn}">')
                w("".join(cells))
                w("</row>")
                if len(buf) > 300:
                    out.write("".join(buf).encode())
                    buf.clear()
        w("</sheetData>")
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
        out.write("".join(buf).encode())


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

