"""Planning a splice: which sheets are replaced or appended, which parts are added, rewritten
or removed, checked before anything is written.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import zipfile
from collections.abc import Sequence

import defusedxml.ElementTree as DET

from ..sheetspec import HEADER as _HEADER_STYLE
from ..sheetspec import Cell, SheetSpec, Style
from .drawings import _plan_drawings
from .jobs import _Plan, _SheetJob
from .notes import _plan_notes
from .opc import _next_id, _Package, _rels_name, _workbook_part
from .rows import RowAppend, _append_row
from .styles import _hex_argb, _StyleBook
from .tables import _repoint_table, _table_users
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
    _esc_attr,
    _parse,
)

#: sheetView attributes carried over from a replaced sheet.
_KEPT_VIEW_ATTRS = ("tabSelected", "showGridLines", "showRowColHeaders", "showZeros",
                    "rightToLeft", "zoomScale", "zoomScaleNormal")

_KEPT_FORMAT_ATTRS = ("baseColWidth", "defaultColWidth", "defaultRowHeight")

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


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
