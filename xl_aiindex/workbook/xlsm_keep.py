"""What ``xl-aiindex excel`` keeps of a workbook it rebuilds, and what it cannot keep.

``excel`` writes a new package (:mod:`~xl_aiindex.workbook.xlsm`): cells, formats, comments,
validations and names are copied, and its own VBA project is written. Of the source's VBA
project (a ``.xlsm`` rebuilt, e.g. for a new xlwings version) it keeps:

* the user's standard and class modules, source as it is (read with the MS-OVBA
  decompression of :mod:`~xl_aiindex.workbook.vba_project`), beside ours;
* the user's code in ``ThisWorkbook`` and in the module of a sheet that is copied, moved to
  that sheet's module in the new project (code names are renumbered ``Sheet1``…);
* the project's code page, when a kept module needs it (Chinese comments: 936).

Not kept, and named by :func:`rebuild_plan` so that a rebuild that replaces its own source
(``excel BOOK.xlsm --force``) refuses instead of dropping them: forms (designer modules),
code in the module of a sheet the build rewrites (``Examples``, ``xlwings.conf``), modules
whose names the new project uses, references to other libraries (that to the xlwings add-in
is replaced by the embedded module); and on the sheets: pictures,
charts, shapes and text boxes (drawings), form buttons and ActiveX controls, Excel tables,
pivot tables, slicers, OLE objects, header/footer pictures, and chart, dialog and macro sheets.
The tool's own drawings (the charts of ``Charts`` and ``Compare``, the buttons of
``Examples``) are rebuilt, not lost.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import XlAiIndexError
from .excel_vba import vba_modules, without_our_code, workbook_code
from .vba_project import (
    CODEPAGE,
    REFERENCES,
    WORKBOOK_BASE,
    WORKSHEET_BASE,
    Module,
    read_project,
)

if TYPE_CHECKING:
    from .book import Loaded

#: Modules of the project ``excel`` writes that are not document modules (excel_vba): a module
#: of the source with one of these names is ours, and rewritten.
OUR_MODULES = frozenset({"xlwings", "xlwings_udfs", "dictionary"})


def _header_and_body(source: str) -> tuple[str, str]:
    """A module's leading ``Attribute VB_…`` lines, and the code after them."""
    lines = source.replace("\r\n", "\n").split("\n")
    n = 0
    while n < len(lines) and lines[n].startswith("Attribute VB_"):
        n += 1
    return "\r\n".join(lines[:n]), "\r\n".join(lines[n:])


@dataclass
class RebuildPlan:
    """What a rebuild keeps of the source's VBA project and what it would lose.

    ``modules``: the user's standard and class modules, added after ours; ``bodies``: new
    document module name -> the user's code to append to it; ``codepage``: of the new project;
    ``lost``: one line per thing the rebuild cannot keep (empty: nothing lost)."""

    modules: list[Module] = field(default_factory=list)
    bodies: dict[str, str] = field(default_factory=dict)
    codepage: int = CODEPAGE
    lost: list[str] = field(default_factory=list)

    def project(self, ours: Sequence[Module]) -> list[Module]:
        """``ours`` (the modules ``excel`` writes) with the user's code and modules added."""
        out = []
        for m in ours:
            body = self.bodies.get(m.name)
            if body is None:
                out.append(m)
            elif m.name == "ThisWorkbook":   # the user's code and our Workbook_Open, merged
                header = _header_and_body(m.source)[0]
                out.append(Module(m.name, header + "\r\n" + workbook_code(body), m.kind))
            else:
                out.append(Module(m.name, m.source.rstrip("\r\n") + "\r\n" + body, m.kind))
        return out + self.modules


def _sheets(z: zipfile.ZipFile) -> list[tuple[str, str, str]]:
    """The workbook's sheets in order: ``(name, part, relationship type's last word)``."""
    wb = z.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = _rels(z, "xl/workbook.xml")
    out = []
    for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", wb):
        name = re.search(r'\bname="([^"]*)"', tag)
        rid = re.search(r'\b(?:\w+:)?id="([^"]*)"', tag)
        if name and rid and rid.group(1) in rels:
            part, kind = rels[rid.group(1)]
            out.append((_unescape(name.group(1)), part, kind))
    return out


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def _rels(z: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (target part, type's last word) of ``part``."""
    folder, base = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", base + ".rels")
    if rels_part not in z.namelist():
        return {}
    out = {}
    for tag in re.findall(r"<(?:\w+:)?Relationship\b[^>]*>", z.read(rels_part).decode("utf-8",
                                                                                        "replace")):
        rid = re.search(r'\bId="([^"]*)"', tag)
        target = re.search(r'\bTarget="([^"]*)"', tag)
        kind = re.search(r'\bType="([^"]*)"', tag)
        if not (rid and target and kind) or 'TargetMode="External"' in tag:
            continue
        t = _unescape(target.group(1))
        t = t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join(folder, t))
        out[rid.group(1)] = (t, kind.group(1).rsplit("/", 1)[-1])
    return out


#: Relationship types of a worksheet whose objects a rebuild does not copy, in words.
_SHEET_OBJECTS = {"table": "an Excel table", "pivotTable": "a pivot table",
                  "oleObject": "an embedded OLE object", "control": "an ActiveX control",
                  "image": "a background picture", "legacyDrawingHF": "a header/footer picture",
                  "slicer": "a slicer", "timeline": "a timeline"}
_SHEET_KINDS = {"chartsheet": "chart sheet", "dialogsheet": "dialog sheet",
                "xlMacrosheet": "Excel 4 macro sheet", "xlIntlMacrosheet": "Excel 4 macro sheet"}


def _drawing_objects(xml: str) -> list[str]:
    """What a drawing part holds, in words (``2 pictures``, ``1 chart``…)."""
    counts = [("picture", len(re.findall(r"<(?:\w+:)?pic\b", xml))),
              ("chart", len(re.findall(r"<(?:\w+:)?chart\b[^>]*\br:id=", xml))),
              ("shape or text box", len(re.findall(r"<(?:\w+:)?sp\b", xml))),
              ("group of shapes", len(re.findall(r"<(?:\w+:)?grpSp\b", xml)))]
    return [f"{n} {what}{'s' if n > 1 and what != 'shape or text box' else ''}"
            for what, n in counts if n]


def sheet_losses(z: zipfile.ZipFile, rebuilt: Collection[str]) -> list[str]:
    """What a rebuild would not copy of the sheets of the package ``z`` (module docstring);
    ``rebuilt``: folded names of the sheets whose drawings the rebuild writes itself."""
    lost = []
    for name, part, kind in _sheets(z):
        if kind != "worksheet":
            lost.append(f"the {_SHEET_KINDS.get(kind, kind)} '{name}'")
            continue
        if name.strip().casefold() in rebuilt:
            continue
        for target, rel in _rels(z, part).values():
            if rel in _SHEET_OBJECTS:
                lost.append(f"{_SHEET_OBJECTS[rel]} on sheet '{name}'")
            elif rel == "drawing" and target in z.namelist():
                what = _drawing_objects(z.read(target).decode("utf-8", "replace"))
                if what:
                    lost.append(f"{', '.join(what)} on sheet '{name}'")
            elif rel == "vmlDrawing" and target in z.namelist():
                vml = z.read(target).decode("utf-8", "replace")
                controls = [k for k in re.findall(r'ObjectType="(\w+)"', vml) if k != "Note"]
                if controls:
                    lost.append(f"{len(controls)} form control{'s' if len(controls) > 1 else ''}"
                                f" ({', '.join(sorted(set(controls)))}) on sheet '{name}'")
    return lost


def rebuild_plan(path: Path, carried: Sequence[str], rebuilt: Collection[str],
                 new_names: Collection[str]) -> RebuildPlan:
    """What rebuilding the workbook at ``path`` keeps and loses (module docstring).
    ``carried``: the names of the sheets copied, in their new order (code names ``Sheet1``…);
    ``rebuilt``: folded names of sheets whose drawings the rebuild writes itself;
    ``new_names``: the module names of the new project (a user's module of such a name is
    lost)."""
    plan = RebuildPlan()
    with zipfile.ZipFile(path) as z:
        plan.lost.extend(sheet_losses(z, rebuilt))
        vba = next((n for n in z.namelist() if n.lower() == "xl/vbaproject.bin"), None)
        if vba is None:
            return plan
        project = read_project(z.read(vba))
        code_names = _code_names(z)
    new_code = {code_names[name.casefold()].casefold(): f"Sheet{i + 1}"
                for i, name in enumerate(carried) if name.casefold() in code_names}
    taken = {n.casefold() for n in new_names}
    # the reference to the xlwings add-in is replaced by the embedded xlwings module
    ours = {r.casefold() for r, _ in REFERENCES} | {"xlwings"}
    for ref in project.references:
        if ref.casefold() not in ours:
            plan.lost.append(f"the VBA project's reference to '{ref}'")
    needs_codepage = False
    for name, source in project.sources.items():
        kind = project.kinds[name]
        header, body = _header_and_body(source)
        if kind == "designer":
            plan.lost.append(f"the VBA form '{name}' (a form's design cannot be copied)")
        elif kind == "document":
            if WORKBOOK_BASE in header:   # the Workbook_Open excel wrote is written anew
                body = without_our_code(body)
            if not body.strip():
                continue
            target = "ThisWorkbook" if WORKBOOK_BASE in header else \
                new_code.get(name.casefold()) if WORKSHEET_BASE in header else None
            if target is None:
                plan.lost.append(f"the code in the VBA module '{name}' (its sheet is rewritten "
                                 "by excel)")
            else:
                plan.bodies[target] = body
                needs_codepage |= not _encodable(body)
        elif name.casefold() in OUR_MODULES:
            continue
        elif name.casefold() in taken or not (name.isidentifier() and name.isascii()):
            plan.lost.append(f"the VBA module '{name}' (the rebuilt project has a module of "
                             "that name)" if name.casefold() in taken else
                             f"the VBA module '{name}' (a name the rebuilt project cannot hold)")
        else:
            plan.modules.append(Module(name, source, "class" if kind == "class" else "module"))
            needs_codepage |= not _encodable(source)
    if needs_codepage:
        plan.codepage = project.codepage
    return plan


def _encodable(text: str, codepage: int = CODEPAGE) -> bool:
    try:
        text.encode(f"cp{codepage}")
    except UnicodeEncodeError:
        return False
    return True


def _code_names(z: zipfile.ZipFile) -> dict[str, str]:
    """Folded sheet name -> its VBA code name (``<sheetPr codeName>``), where it has one."""
    out = {}
    for name, part, kind in _sheets(z):
        if kind != "worksheet" or part not in z.namelist():
            continue
        with z.open(part) as fh:
            head = fh.read(4096).decode("utf-8", "replace")
        m = re.search(r'<(?:\w+:)?sheetPr\b[^>]*\bcodeName="([^"]*)"', head)
        if m:
            out[name.casefold()] = _unescape(m.group(1))
    return out


class RebuildWouldLose(XlAiIndexError):
    """``excel`` would replace its source with a rebuild that lacks what it cannot copy
    (exit 1, nothing written)."""


def plan_rebuild(loaded: Loaded, rewritten: Sequence[str], *,
                 replaces_source: bool) -> RebuildPlan:
    """:func:`rebuild_plan` for ``loaded``'s workbook, built with its sheets ``rewritten``
    (``Examples``, ``xlwings.conf``) written anew after the others. With ``replaces_source``
    (the rebuild goes over the file it is built from) anything it would lose raises
    :class:`RebuildWouldLose`, naming each, before anything is written."""
    skip = {n.strip().casefold() for n in rewritten}
    kinds = loaded.package.kinds()
    carried = [n for n in loaded.sheet_names
               if kinds.get(n, "worksheet") == "worksheet" and n.strip().casefold() not in skip]
    settings = loaded.model.settings
    stored = loaded.stored.sheets if loaded.stored is not None else {}
    visuals = {settings.sheet(n).strip().casefold() for n in ("Charts", "Compare")}
    rebuilt = skip | {k for k in visuals if k in stored}   # the tool's charts are redrawn
    new_names = [m.name for m in vba_modules(len(carried) + len(rewritten))]
    plan = rebuild_plan(loaded.path, carried, rebuilt, new_names)
    if replaces_source and plan.lost:
        name = loaded.path.name
        items = "".join(f"\n  - {item}" for item in plan.lost)
        raise RebuildWouldLose(
            f"{loaded.path}: rebuilding it in place would lose what excel cannot copy into "
            f"the new workbook:{items}\nNothing was written. To rebuild, write to another file "
            f"(xl-aiindex excel {name} -o {loaded.path.stem}_rebuilt.xlsm; {name} stays as it "
            "is) and move these into it in Excel, or remove them from "
            f"{name} first.")
    return plan
