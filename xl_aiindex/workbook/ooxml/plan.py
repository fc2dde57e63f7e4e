"""Planning a splice: which sheets are replaced or appended, which parts are added, rewritten
or removed, checked before anything is written.
"""

from __future__ import annotations

import contextlib
import io
import os
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import defusedxml.ElementTree as DET

from ...contract import MAX_SHEET_NAME, RESERVED_SHEET_NAME, SHEET_NAME_FORBIDDEN
from ...contract import key as _sheet_key
from ...i18n import _
from ..background import OnThread
from ..sheetspec import HEADER as _HEADER_STYLE
from ..sheetspec import Cell, ColumnRows, SheetSpec, Style
from .drawings import _plan_drawings
from .jobs import _Plan, _SheetJob
from .notes import _plan_notes
from .opc import _next_id, _Package, _Rel, _rels_name, _workbook_part
from .rows import RowAppend, _append_row
from .styles import _hex_argb, _StyleBook
from .tables import _repoint_table, _table_users
from .vba_sheets import RT_VBA_PROJECT, add_sheet_modules
from .workbookxml import OWNED_PREFIX, _edit_list, _edit_workbook
from .xmltext import (
    _XML_DECL,
    CT_STYLES,
    CT_WORKBOOKS,
    CT_WORKSHEET,
    MAX_COLS,
    MAX_ROWS,
    NS_CT,
    NS_MAIN,
    NS_PKG_REL,
    NS_R,
    NS_STRICT_MAIN,
    RT_CALC_CHAIN,
    RT_DRAWING,
    RT_STYLES,
    RT_TABLE,
    RT_VML,
    RT_WORKSHEET,
    _attrs,
    _esc_attr,
    _parse,
)

#: sheetView attributes carried over from a replaced sheet.
_KEPT_VIEW_ATTRS = ("tabSelected", "showGridLines", "showRowColHeaders", "showZeros",
                    "rightToLeft", "zoomScale", "zoomScaleNormal")

_KEPT_FORMAT_ATTRS = ("baseColWidth", "defaultColWidth", "defaultRowHeight")

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")

_BAD_SHEET_CHARS = re.compile(f"[{re.escape(SHEET_NAME_FORBIDDEN)}]")


def _check_new_name(name: str) -> None:
    if not name or len(name) > MAX_SHEET_NAME:
        raise ValueError(f"sheet name must have 1 to {MAX_SHEET_NAME} characters: {name!r}")
    if _BAD_SHEET_CHARS.search(name) or name.startswith("'") or name.endswith("'"):
        raise ValueError(f"sheet name may not contain []:*?/\\ or start/end with ': {name!r}")
    if name.casefold() == RESERVED_SHEET_NAME.casefold():
        raise ValueError(f"'{RESERVED_SHEET_NAME}' is a reserved sheet name")


class _SmallReads:
    """A binary file read at most :attr:`SIZE` bytes at a time: ``iterparse`` asks for 16 KiB,
    parses all of it and only then yields its events, so the rows that follow a sheet's head
    would be parsed for nothing; in small reads the parse stops soon after the head."""

    SIZE = 2048

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh

    def read(self, size: int = -1) -> bytes:
        """At most :attr:`SIZE` bytes (fewer at the end of the file)."""
        return self.fh.read(self.SIZE if size < 0 else min(size, self.SIZE))


def _old_sheet_head(zin: zipfile.ZipFile, part: str) -> tuple[str | None, dict[str, str],
                                                               dict[str, str]]:
    """codeName, first sheetView's kept attributes and sheetFormatPr's kept attributes of an
    existing sheet, read incrementally up to ``<sheetData>`` (the old sheet may be large)."""
    code_name: str | None = None
    view: dict[str, str] = {}
    fmt: dict[str, str] = {}
    seen_view = False
    with zin.open(part) as fh:
        for _event, el in DET.iterparse(_SmallReads(fh), events=("start",), forbid_dtd=True):
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


_SHEET_DATA_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?sheetData\s*>"
                             rb"|<(?:[A-Za-z_][\w.-]*:)?sheetData\b[^<>]*/>")
_PROTECTION = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?sheetProtection\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")


def _sheet_data_end(buf: bytes) -> re.Match[bytes] | None:
    """The first match of :data:`_SHEET_DATA_END` in ``buf``, the regular expression tried only
    around each ``sheetData`` (found by a plain search: a large sheet's rows are scanned at
    memory speed, not by the regex engine)."""
    pos = buf.find(b"sheetData")
    while pos != -1:
        m = _SHEET_DATA_END.search(buf, max(0, pos - 256), pos + 4096)
        if m is not None:
            return m
        pos = buf.find(b"sheetData", pos + 1)
    return None


def _old_protection(zin: zipfile.ZipFile, part: str) -> dict[str, str] | None:
    """The attributes of an existing sheet's ``<sheetProtection>`` (its password hash, what the
    user may still do), None when the sheet is not protected. The element follows
    ``<sheetData>``: the part is streamed and only what comes after its rows is kept."""
    after: bytes | None = None
    carry = b""
    with zin.open(part) as fh:
        while chunk := fh.read(1 << 20):
            if after is not None:
                after += chunk
                continue
            buf = carry + chunk
            m = _sheet_data_end(buf)
            if m is not None:
                after = buf[m.end():]
            else:
                carry = buf[-256:]
    if after is None:
        return None
    m2 = _PROTECTION.search(after.decode("utf-8", "replace"))
    if m2 is None:
        return None
    # the element's own attributes only (CT_SheetProtection has no namespaced ones)
    return {k: v for k, v in _attrs(m2.group(0)).items() if ":" not in k}


#: An old sheet part from this size on has its protection read on a thread of its own while
#: the sheets before its ``<sheetProtection>`` are written (issue 20: the element follows the
#: rows, so the whole part is inflated to reach it, 0.1 s for a 30 MB Scores).
_READ_BESIDE = 1 << 20


def _protection_beside(zin: zipfile.ZipFile, part: str
                       ) -> dict[str, str] | None | Callable[[], dict[str, str] | None]:
    """:func:`_old_protection` of ``part``, read on a thread of its own through a reader of its
    own (the package's file position belongs to the writing thread); read here when the
    package has neither a file name nor its bytes in memory."""
    fp = zin.fp
    if isinstance(fp, io.BytesIO):
        source: Any = io.BytesIO(fp.getvalue())
    elif zin.filename and os.path.isfile(zin.filename):
        source = zin.filename
    else:
        return _old_protection(zin, part)

    def read() -> dict[str, str] | None:
        with zipfile.ZipFile(source) as own:
            return _old_protection(own, part)

    return OnThread(read)


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
    def see(st: Style) -> None:
        if st not in xf_attr:
            xf_attr[st] = "" if st == Style() else f' s="{book.xf(st)}"'

    rows = spec.rows
    if isinstance(rows, ColumnRows):
        # a column table (links only in its header): its styles in the order a row-by-row
        # pass meets them first (that order numbers the new cell formats)
        for cell in rows.header:
            if cell.style is not None:
                see(cell.style)
        firsts: list[tuple[int, int, Style]] = []
        for j, column in enumerate(rows.columns if rows.body_rows else ()):
            if column.styles is None:
                if column.style is not None:
                    firsts.append((0, j, column.style))
                continue
            met: dict[int, tuple[int, Style]] = {}
            for i, st in enumerate(column.styles):
                if st is not None and id(st) not in met:
                    met[id(st)] = (i, st)
            firsts.extend((i, j, st) for i, st in met.values())
        for _row, _col, st in sorted(firsts, key=lambda f: (f[0], f[1])):
            see(st)
        rows = [rows.header]
    for row in rows:
        if len(row) > n_cols:
            n_cols = len(row)
        for cell in row:
            st = cell.style
            if st is not None and seen.get(id(st)) is not st:
                seen[id(st)] = st
                see(st)
                if len(seen) > 4096:
                    seen.clear()
            link = cell.link
            if link is not None and _URL.match(link) and link not in job.external:
                job.external[link] = next(ext_ids)
    job.n_rows, job.n_cols = len(spec.rows), n_cols
    if job.n_rows > MAX_ROWS or n_cols > MAX_COLS:
        raise ValueError(f"{spec.name}: {job.n_rows} x {n_cols} exceeds Excel's "
                         f"{MAX_ROWS} x {MAX_COLS}")


@dataclass
class _Book:
    """The source package as the planner reads it: its parts and relationships, content
    types, the workbook part and the sheets it lists (read once, before anything is decided)."""

    zin: zipfile.ZipFile
    pkg: _Package
    ct_name: str                                # the [Content_Types].xml entry
    ct_root: Any                                # ... parsed
    overrides: dict[str, str]                   # lower-case part name -> content type
    wb_part: str
    wb_xml: bytes
    wb_rels: dict[str, _Rel]                    # the workbook's relationships by id
    existing: dict[str, tuple[str, str]]        # sheet key -> (name, r:id), workbook order
    sheet_ids: list[int]


def _open_book(zin: zipfile.ZipFile) -> _Book:
    """The package in ``zin``, refused unless it is a (transitional) SpreadsheetML workbook."""
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
    existing: dict[str, tuple[str, str]] = {}
    sheet_ids: list[int] = []
    sheets_el = wb_root.find(f"{{{NS_MAIN}}}sheets")
    for el in [] if sheets_el is None else sheets_el:
        name = el.get("name", "")
        existing.setdefault(_sheet_key(name), (name, el.get(f"{{{NS_R}}}id", "")))
        with contextlib.suppress(ValueError):
            sheet_ids.append(int(el.get("sheetId", "0")))
    if sheets_el is None:
        raise ValueError("workbook.xml has no <sheets>")
    return _Book(zin, pkg, ct_name, ct_root, overrides, wb_part, wb_xml,
                 {r.id: r for r in pkg.rels.get(wb_part, [])}, existing, sheet_ids)


def _worksheet_part(book: _Book, name_rid: tuple[str, str], refusal: str) -> tuple[str, str]:
    """The part of an existing sheet (name, relationship id), which must be a worksheet."""
    name, rid = name_rid
    rel = book.wb_rels.get(rid)
    part = None if rel is None else book.pkg.resolve(book.wb_part, rel)
    if rel is None or part is None:
        raise ValueError(f"sheet {name!r} has no part in the package")
    if rel.type != RT_WORKSHEET:
        raise ValueError(f"sheet {name!r} is not a worksheet ({rel.type.rpartition('/')[2]})"
                         f"; {refusal}")
    return name, part


def _replaced_job(book: _Book, spec: SheetSpec, part: str, name: str) -> _SheetJob:
    """The job replacing the existing sheet ``name`` (part ``part``) by ``spec``: what of the
    old sheet is carried over (its drawing, code name, view and format settings, protection)."""
    pkg = book.pkg
    job = _SheetJob(spec, part, name, replaced=True)
    job.drawing = next((r for r in pkg.rels.get(part, [])
                        if r.type == RT_DRAWING and not r.external), None)
    job.code_name, job.view_attrs, job.format_attrs = _old_sheet_head(book.zin, part)
    job.protection = (_protection_beside(book.zin, part)
                      if book.zin.getinfo(part).file_size >= _READ_BESIDE
                      else _old_protection(book.zin, part))
    job.old_rel_ids = {r.id for r in pkg.rels.get(part, [])}
    job.old_vml = [r for r in pkg.rels.get(part, []) if r.type == RT_VML and not r.external]
    return job


def _new_sheet_spec(app: RowAppend) -> SheetSpec:
    """A new sheet holding the header and the row of ``app`` (no sheet of its name exists)."""
    width = max([*app.header, *app.cells], default=-1) + 1
    head = [Cell(app.header.get(c), style=_HEADER_STYLE) for c in range(width)]
    row = [Cell(None if app.cells.get(c) == "" else app.cells.get(c)) for c in range(width)]
    return SheetSpec(app.sheet.strip(), [head, row], dict(app.widths))


@dataclass
class _Matched:
    """The specs and appends matched with the workbook's sheets."""

    jobs: dict[str, _SheetJob]          # replaced sheet entry -> job
    new_specs: list[SheetSpec]          # sheets to append (very hidden ones last)
    appended_rows: dict[str, bytes]     # sheet entry -> its XML with the appended row


def _match_sheets(book: _Book, specs: Sequence[SheetSpec], appends: Sequence[RowAppend],
                  very_hidden: Sequence[str]) -> _Matched:
    """Which specs replace a sheet and which are new; the rows appended to existing sheets."""
    seen: set[str] = set()
    out = _Matched({}, [], {})
    for spec in specs:
        key = _sheet_key(spec.name)
        if key in seen:
            raise ValueError(f"two sheet specs named {spec.name.strip()!r}")
        seen.add(key)
        if key not in book.existing:
            _check_new_name(spec.name.strip())
            out.new_specs.append(spec)
            continue
        name, part = _worksheet_part(book, book.existing[key], "it cannot be replaced")
        out.jobs[part] = _replaced_job(book, spec, part, name)
    for app in appends:
        key = _sheet_key(app.sheet)
        if key in seen:
            raise ValueError(f"sheet {app.sheet.strip()!r} both replaced and appended to")
        seen.add(key)
        if key not in book.existing:
            _check_new_name(app.sheet.strip())
            out.new_specs.append(_new_sheet_spec(app))
            continue
        name, part = _worksheet_part(book, book.existing[key], "no row can be appended to it")
        out.appended_rows[part] = _append_row(book.zin.read(part), app)
    hidden_keys = {_sheet_key(n) for n in very_hidden}
    out.new_specs.sort(key=lambda sp: _sheet_key(sp.name) in hidden_keys)   # hidden ones last
    return out


@dataclass
class _Shared:
    """What the plan adds to the workbook's shared parts: ``<sheet>`` elements, workbook
    relationships and content-type entries, and the generator of free relationship ids."""

    rid_gen: Iterator[str]
    wb_inserts: list[tuple[str, int, str]] = field(default_factory=list)   # name, sheetId, r:id
    rel_inserts: list[str] = field(default_factory=list)
    ct_inserts: list[str] = field(default_factory=list)


def _code_names(book: _Book) -> set[str]:
    """The folded code names of the workbook's worksheets (read only when it has a VBA
    project: they are what an appended sheet's code name must differ from)."""
    if not any(r.type == RT_VBA_PROJECT for r in book.wb_rels.values()):
        return set()
    names = set()
    for name_rid in book.existing.values():
        rel = book.wb_rels.get(name_rid[1])
        part = None if rel is None else book.pkg.resolve(book.wb_part, rel)
        if rel is not None and rel.type == RT_WORKSHEET and part in book.zin.namelist():
            code_name = _old_sheet_head(book.zin, part)[0]
            if code_name:
                names.add(code_name.casefold())
    return names


def _sheet_dir(book: _Book) -> str:
    """The folder of the workbook's worksheet parts (where appended sheets go)."""
    sheet_parts = [book.pkg.resolve(book.wb_part, r) for r in book.wb_rels.values()
                   if r.type == RT_WORKSHEET]
    return next((posixpath.dirname(p) for p in sheet_parts if p),
                posixpath.join(posixpath.dirname(book.wb_part), "worksheets"))


def _place_new_sheets(book: _Book, new_specs: Sequence[SheetSpec], shared: _Shared
                      ) -> list[_SheetJob]:
    """Jobs of the appended sheets: part names, sheetIds and relationship ids that clash with
    nothing (their ``<sheet>``, relationship and content type added to ``shared``)."""
    pkg = book.pkg
    sheet_dir = _sheet_dir(book)
    next_sheet_id = max(book.sheet_ids, default=0) + 1
    new_jobs: list[_SheetJob] = []
    n = 1
    for spec in new_specs:
        while (pkg.actual(f"{sheet_dir}/sheet{n}.xml") is not None
               or pkg.actual(_rels_name(f"{sheet_dir}/sheet{n}.xml")) is not None):
            n += 1
        part = f"{sheet_dir}/sheet{n}.xml"
        n += 1
        rid = next(shared.rid_gen)
        name = spec.name.strip()
        new_jobs.append(_SheetJob(spec, part, name, replaced=False))
        shared.wb_inserts.append((name, next_sheet_id, rid))
        next_sheet_id += 1
        target = posixpath.relpath(part, posixpath.dirname(book.wb_part) or ".")
        shared.rel_inserts.append(f'<Relationship Id="{rid}" Type="{RT_WORKSHEET}" '
                                  f'Target="{_esc_attr(target)}"/>')
        shared.ct_inserts.append(f'<Override PartName="/{_esc_attr(part)}" '
                                 f'ContentType="{CT_WORKSHEET}"/>')
    return new_jobs


def _plan_parts(book: _Book, all_jobs: Sequence[_SheetJob], shared: _Shared
                ) -> dict[str, bytes]:
    """The drawing, chart, comments and VML parts of the written sheets (native charts of the
    Charts and Compare sheets; header notes): the new parts, content types added to
    ``shared``."""
    chart_parts = _plan_drawings(book.zin, book.pkg, all_jobs)
    shared.ct_inserts.extend(chart_parts.ct_inserts)
    has_vml_default = any(el.tag == f"{{{NS_CT}}}Default"
                          and el.get("Extension", "").lower() == "vml" for el in book.ct_root)
    note_parts = _plan_notes(book.zin, book.pkg, all_jobs, has_vml_default)
    shared.ct_inserts.extend(note_parts.ct_inserts)
    return {**chart_parts.added, **note_parts.added}


def _survey_styles(book: _Book, all_jobs: Sequence[_SheetJob]
                   ) -> tuple[_StyleBook, str | None, dict[Style, str]]:
    """One pass over the cells (table size, distinct styles, external links): the styles
    book, the workbook's styles part (None: it has none) and each style's ``s`` attribute."""
    styles_rel = next((r for r in book.wb_rels.values() if r.type == RT_STYLES), None)
    styles_part = None if styles_rel is None else book.pkg.resolve(book.wb_part, styles_rel)
    styles = _StyleBook(None if styles_part is None else book.zin.read(styles_part))
    xf_attr: dict[Style, str] = {}
    for job in all_jobs:
        _survey(job, styles, xf_attr)
    return styles, styles_part, xf_attr


def _relationships_after(book: _Book, jobs: dict[str, _SheetJob]
                         ) -> tuple[dict[str, list[_Rel]], set[str], dict[str, bytes]]:
    """The package's relationships after the splice, the workbook relationships dropped (the
    calculation chain, when a sheet is replaced) and the re-pointed table parts. Refuses
    (``ValueError``) when a table that goes away is used by a formula or a defined name."""
    pkg = book.pkg
    new_rels = dict(pkg.rels)
    wb_rel_list = list(pkg.rels.get(book.wb_part, []))
    dropped_wb_rels = ({r.id for r in wb_rel_list if r.type == RT_CALC_CHAIN} if jobs
                       else set())
    new_rels[book.wb_part] = [r for r in wb_rel_list if r.id not in dropped_wb_rels]
    repointed: dict[str, bytes] = {}
    dropped_tables: list[tuple[str, str]] = []    # (table name, sheet name)
    for part, job in jobs.items():
        for rel in pkg.rels.get(part, []):
            table_part = None if rel.type != RT_TABLE else pkg.resolve(part, rel)
            if table_part is None:
                continue
            data = book.zin.read(table_part)
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
        users = _table_users(book.zin, pkg, book.wb_part, book.wb_rels, set(jobs),
                             dropped_tables)
        if users:
            raise ValueError(_("{formulas}: these formulas would break, as the table is removed "
                               "with the sheet's old content; move the table to a sheet of your "
                               "own").format(formulas="; ".join(users)))
    return new_rels, dropped_wb_rels, repointed


def _unreachable(book: _Book, new_rels: dict[str, list[_Rel]]) -> set[str]:
    """Parts reachable before the splice and not after it, with their ``.rels`` entries."""
    pkg = book.pkg
    removed = (pkg.reachable(pkg.rels) - pkg.reachable(new_rels)) - {book.ct_name}
    for part in list(removed):
        rels_entry = pkg.rels_entry.get(part)
        if rels_entry is not None:
            removed.add(rels_entry)
    return removed


def _sheet_rels(book: _Book, jobs: dict[str, _SheetJob], new_jobs: Sequence[_SheetJob],
                rewritten: dict[str, bytes | None], added: dict[str, bytes]) -> None:
    """The ``.rels`` part of every written sheet: rewritten (or dropped) for replaced sheets,
    added for appended ones."""
    for part, job in jobs.items():
        rels_xml = job.rels_xml
        entry = book.pkg.rels_entry.get(part)
        if entry is not None:
            rewritten[entry] = rels_xml
        elif rels_xml is not None:
            added[_rels_name(part)] = rels_xml
    for job in new_jobs:
        rels_xml = job.rels_xml
        if rels_xml is not None:
            added[_rels_name(job.part)] = rels_xml


def _styles_edit(book: _Book, styles: _StyleBook, styles_part: str | None, shared: _Shared,
                 rewritten: dict[str, bytes | None], added: dict[str, bytes]) -> None:
    """``styles.xml`` with the formats the written cells need (created when the workbook has
    no styles part)."""
    if not styles.changed:
        return
    if styles_part is not None:
        rewritten[styles_part] = styles.render()
        return
    styles_part = posixpath.join(posixpath.dirname(book.wb_part), "styles.xml")
    if book.pkg.actual(styles_part) is not None:
        raise ValueError(f"{styles_part} exists but is not the workbook's styles part")
    added[styles_part] = styles.render()
    rid = next(shared.rid_gen)
    shared.rel_inserts.append(f'<Relationship Id="{rid}" Type="{RT_STYLES}" Target="styles.xml"/>')
    shared.ct_inserts.append(f'<Override PartName="/{_esc_attr(styles_part)}" '
                             f'ContentType="{CT_STYLES}"/>')


def _shared_edits(book: _Book, shared: _Shared, dropped_wb_rels: set[str], removed: set[str],
                  full_calc_on_load: bool, names: dict[str, str] | None, owned_prefix: str,
                  very_hidden: Sequence[str], rewritten: dict[str, bytes | None],
                  added: dict[str, bytes]) -> None:
    """``workbook.xml``, the workbook's ``.rels`` and ``[Content_Types].xml`` after the splice
    (each only rewritten when something in it changes)."""
    if shared.wb_inserts or full_calc_on_load or names is not None:
        new_wb = _edit_workbook(book.wb_xml, shared.wb_inserts, full_calc_on_load, names,
                                owned_prefix, {n.strip().casefold() for n in very_hidden})
        if new_wb != book.wb_xml:
            rewritten[book.wb_part] = new_wb
    wb_rels_entry = book.pkg.rels_entry.get(book.wb_part)
    if shared.rel_inserts or dropped_wb_rels:
        if wb_rels_entry is None:
            wb_rels_entry = _rels_name(book.wb_part)
            added[wb_rels_entry] = (f'{_XML_DECL}<Relationships xmlns="{NS_PKG_REL}">'
                                    f'{"".join(shared.rel_inserts)}</Relationships>').encode()
        else:
            rewritten[wb_rels_entry] = _edit_list(
                book.zin.read(wb_rels_entry), "Id", dropped_wb_rels, shared.rel_inserts)
    drop_ct = {"/" + p.lower() for p in removed}
    if shared.ct_inserts or drop_ct & set(book.overrides):
        rewritten[book.ct_name] = _edit_list(book.zin.read(book.ct_name), "PartName", drop_ct,
                                             shared.ct_inserts, casefold=True)


def _plan(zin: zipfile.ZipFile, specs: list[SheetSpec], full_calc_on_load: bool,
          names: dict[str, str] | None = None, owned_prefix: str = OWNED_PREFIX,
          very_hidden: Sequence[str] = (), appends: Sequence[RowAppend] = ()) -> _Plan:
    """Everything the splice of ``specs`` and ``appends`` into the package ``zin`` will write,
    decided (and every refusal raised) before a byte is written."""
    book = _open_book(zin)
    matched = _match_sheets(book, specs, appends, very_hidden)
    jobs = matched.jobs
    shared = _Shared(_next_id(set(book.wb_rels)))
    new_jobs = _place_new_sheets(book, matched.new_specs, shared)
    all_jobs = [*jobs.values(), *new_jobs]
    added: dict[str, bytes] = _plan_parts(book, all_jobs, shared)
    styles, styles_part, xf_attr = _survey_styles(book, all_jobs)
    new_rels, dropped_wb_rels, repointed = _relationships_after(book, jobs)
    removed = _unreachable(book, new_rels)
    rewritten: dict[str, bytes | None] = {**matched.appended_rows, **repointed}
    _sheet_rels(book, jobs, new_jobs, rewritten, added)
    if new_jobs:   # appended sheets of a macro workbook: code names and modules
        add_sheet_modules(book, new_jobs, _code_names(book), rewritten)
    _styles_edit(book, styles, styles_part, shared, rewritten, added)
    _shared_edits(book, shared, dropped_wb_rels, removed, full_calc_on_load, names,
                  owned_prefix, very_hidden, rewritten, added)
    prefix = _sheet_dir(book).lower() + "/"
    insert_after = next((n for n in reversed(book.pkg.names) if n.lower().startswith(prefix)),
                        None)
    removed -= set(rewritten)
    return _Plan(jobs, new_jobs, rewritten, removed, added, insert_after, xf_attr)
