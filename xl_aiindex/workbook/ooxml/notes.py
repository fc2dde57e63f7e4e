"""Header notes (``SheetSpec.header_notes``): cell comments on row 1 and the legacy VML drawing
Excel needs to show them, written as Excel and xlsxwriter write them.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence

from ..cells import column_letter
from ..sheetspec import SheetSpec
from .jobs import _ChartParts, _SheetJob
from .opc import _free_name, _next_id, _Package, _Rel
from .xmltext import _XML_DECL, CT_COMMENTS, CT_VML, MAX_COLS, NS_MAIN, RT_COMMENTS, RT_VML, _text

#: Author of the header notes (cell comments) this writer puts on result sheets.
NOTE_AUTHOR = "xl-aiindex"

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
