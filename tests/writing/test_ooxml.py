"""Surgical OOXML writer: result sheets replaced/added, everything else byte-identical."""

from __future__ import annotations

import io
import math
import posixpath
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook
from rich_workbook import REPORT_FORMULAS, make_rich_workbook

from xl_aiindex.workbook.ooxml import package_parts, splice_sheets
from xl_aiindex.workbook.ooxml import plan as plan_module
from xl_aiindex.workbook.sheetspec import (
    HEADER,
    INTEGER,
    NUMBER,
    PERCENT,
    PRECISE,
    Cell,
    SheetSpec,
    Style,
    tier_style,
)

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CTNS = "http://schemas.openxmlformats.org/package/2006/content-types"
SOFFICE = shutil.which("soffice") or ("/usr/bin/soffice" if Path("/usr/bin/soffice").exists()
                                      else None)
NAN = float("nan")
CALC_CHAIN_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"


# --------------------------------------------------------------------------------------------
# helpers


def rewrite_package(path: Path, edit) -> None:
    """Rewrite the zip at ``path``: ``edit(parts)`` mutates the ordered name -> bytes dict."""
    with zipfile.ZipFile(path) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    parts = package_parts(path)
    edit(parts)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zi = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            zi.compress_type = infos[name].compress_type if name in infos else zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)


def add_calc_chain(path: Path) -> None:
    """Give the package an Excel-style calcChain.xml (xlsxwriter writes none)."""

    def edit(parts: dict[str, bytes]) -> None:
        parts["xl/calcChain.xml"] = (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<calcChain xmlns="' + MAIN.encode() + b'"><c r="B2" i="6"/><c r="B3"/>'
            b'<c r="B4"/></calcChain>')
        rels = parts["xl/_rels/workbook.xml.rels"].decode()
        parts["xl/_rels/workbook.xml.rels"] = rels.replace(
            "</Relationships>", f'<Relationship Id="rId99" Type="{RNS}/calcChain" '
            'Target="calcChain.xml"/></Relationships>').encode()
        ct = parts["[Content_Types].xml"].decode()
        parts["[Content_Types].xml"] = ct.replace(
            "</Types>", f'<Override PartName="/xl/calcChain.xml" ContentType="{CALC_CHAIN_CT}"/>'
            "</Types>").encode()

    rewrite_package(path, edit)


def sheet_parts(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet name -> part name, from workbook.xml and its rels."""
    wb = ET.fromstring(parts["xl/workbook.xml"])
    rels = {r.get("Id"): r.get("Target") for r in ET.fromstring(parts["xl/_rels/workbook.xml.rels"])}
    out = {}
    for sh in wb.find(f"{{{MAIN}}}sheets"):
        target = rels[sh.get(f"{{{RNS}}}id")]
        out[sh.get("name")] = posixpath.normpath(posixpath.join("xl", target))
    return out


def rels_of(parts: dict[str, bytes], part: str) -> list[ET.Element]:
    d, base = posixpath.split(part)
    name = f"{d}/_rels/{base}.rels"
    return list(ET.fromstring(parts[name])) if name in parts else []


def resolve(part: str, target: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(part), target))


def sheet_xml(parts: dict[str, bytes], sheet: str) -> str:
    return parts[sheet_parts(parts)[sheet]].decode()


def start_tag(xml: bytes) -> bytes:
    """The root element's start tag."""
    m = re.search(rb"<(?![?!])[^>]*>", xml)
    assert m is not None
    return m.group(0)


def hdr(*names: str) -> list[Cell]:
    return [Cell(n, style=HEADER) for n in names]


def result_specs() -> list[SheetSpec]:
    scores = SheetSpec(
        "  scores ",   # matches "Scores": case-insensitive, surrounding spaces ignored
        [hdr("Code", "Index", "Note", "Share", "Double"),
         [Cell("AAA"), Cell(61.25, style=NUMBER), Cell("=SUM(A1:A2)"), Cell(0.25, style=PERCENT),
          Cell(122.5, formula="B2*2", style=NUMBER)],
         [Cell("BBB"), Cell(NAN, style=NUMBER), Cell("+1 not a formula"),
          Cell(0.5, style=PERCENT), Cell(None, formula="=B3*2")],
         [Cell("CCC"), Cell(1 / 3, style=PRECISE), Cell("@user"), Cell(True),
          Cell("big", formula='IF(B4>0,"big","small")')],
         [Cell("DDD", link="'Data'!A3"), Cell(7, style=INTEGER), Cell("-5"), Cell(math.inf),
          Cell(True, formula="B5>0")],
         [Cell("EEE", link="https://example.org/?a=1&b=2"), Cell(-0.1 + 0.3),
          Cell("a < b & c > d"), Cell(None), Cell("#DIV/0!", formula="1/0")]],
        widths={0: 14, 2: 30.5},
        freeze=(1, 1),
        tab_color="1F4E78",
    )
    ranking = SheetSpec(
        "Ranking",
        [hdr("Rank", "Code", "Name", "Index", "Score"),
         *[[Cell(i), Cell(code), Cell(f"Unit {code}"), Cell(60.0 - i, style=NUMBER),
            Cell(99.5 - i, style=NUMBER)]
           for i, code in enumerate(("CCC", "AAA", "BBB", "DDD", "EEE"), start=1)]],
    )
    tiers = SheetSpec(
        "Tiers",
        [hdr("Code", "Tier"),
         *[[Cell(code, style=tier_style(Style(), t)), Cell(t, style=tier_style(INTEGER, t))]
           for t, code in enumerate(("AAA", "BBB", "CCC"), start=1)]],
        freeze=(0, 0),
        autofilter=False,
        tab_color="#00B050",
    )
    return [scores, ranking, tiers]


# --------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module", params=["xlsx", "xlsm"])
def spliced(request, tmp_path_factory):
    """(source path, spliced path) for the rich workbook with an Excel-style calcChain."""
    d = tmp_path_factory.mktemp(f"splice_{request.param}")
    src = make_rich_workbook(d / f"rich.{request.param}", vba=request.param == "xlsm")
    add_calc_chain(src)
    dst = d / f"spliced.{request.param}"
    splice_sheets(src, dst, result_specs())
    return src, dst


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory) -> Path:
    """xlwings' quickstart.xlsm: saved by Excel (mc:Ignorable, x14ac, …, no numFmts)."""
    import xlwings

    d = tmp_path_factory.mktemp("quickstart")
    path = d / "quickstart.xlsm"
    shutil.copy(Path(xlwings.__file__).parent / "quickstart.xlsm", path)
    return path


# --------------------------------------------------------------------------------------------
# package-level preservation


def test_fixture_is_rich(spliced):
    src, _ = spliced
    parts = package_parts(src)
    names = set(parts)
    assert {"xl/charts/chart1.xml", "xl/charts/chart2.xml", "xl/media/image1.png",
            "xl/tables/table1.xml", "xl/calcChain.xml"} <= names
    assert any(n.startswith("xl/comments") for n in names)
    assert (src.suffix == ".xlsm") == ("xl/vbaProject.bin" in names)
    wb = openpyxl.load_workbook(src)
    assert wb.sheetnames == ["Settings", "Framework", "Units", "Data", "Lookup", "Report",
                             "Scores", "Ranking"]
    assert wb["Lookup"].sheet_state == "hidden"


def test_untouched_parts_are_byte_identical(spliced):
    src, dst = spliced
    a, b = package_parts(src), package_parts(dst)
    sheets = sheet_parts(a)
    replaced = [sheets["Scores"], sheets["Ranking"]]
    replaced_rels = [f"{posixpath.dirname(p)}/_rels/{posixpath.basename(p)}.rels"
                     for p in replaced]
    allowed = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
               "xl/styles.xml", "docProps/app.xml", *replaced, *replaced_rels}
    # parts only the replaced sheets' dropped relationships pointed at, and the calc chain
    dropped = {resolve(p, r.get("Target")) for p in replaced for r in rels_of(a, p)
               if not r.get("Type").endswith("/drawing")}
    assert any("comments" in n for n in dropped) and any("table" in n for n in dropped)
    expected_removed = dropped | {"xl/calcChain.xml"}

    assert set(a) - set(b) == expected_removed
    new = set(b) - set(a)
    assert new == {sheet_parts(b)["Tiers"]}
    for name in a:
        if name not in allowed and name not in expected_removed:
            assert b[name] == a[name], f"{name} changed"
    for name in ("xl/sharedStrings.xml", "xl/theme/theme1.xml", "xl/drawings/drawing1.xml",
                 sheet_parts(a)["Report"]):
        assert b[name] == a[name]
    if src.suffix == ".xlsm":
        assert b["xl/vbaProject.bin"] == a["xl/vbaProject.bin"]

    # entry order and compression of the kept entries
    with zipfile.ZipFile(src) as za, zipfile.ZipFile(dst) as zb:
        ia = {i.filename: i for i in za.infolist()}
        ib = {i.filename: i for i in zb.infolist()}
        assert zb.testzip() is None
    kept_a = [n for n in ia if n in ib]
    kept_b = [n for n in ib if n in ia]
    assert kept_a == kept_b
    assert all(ia[n].compress_type == ib[n].compress_type for n in kept_a)


def test_removed_parts_leave_no_dangling_references(spliced):
    _, dst = spliced
    b = package_parts(dst)
    ct = ET.fromstring(b["[Content_Types].xml"])
    for el in ct.findall(f"{{{CTNS}}}Override"):
        assert el.get("PartName").lstrip("/") in b, el.get("PartName")
    for name in b:
        if not name.endswith(".rels"):
            continue
        d = posixpath.dirname(posixpath.dirname(name))
        for rel in ET.fromstring(b[name]):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(d, target))
            assert path in b, f"{name} -> {target}"
    assert "calcChain" not in b["xl/_rels/workbook.xml.rels"].decode()


def test_workbook_xml_keeps_sheets_names_and_ids(spliced):
    src, dst = spliced
    a, b = package_parts(src), package_parts(dst)
    wa, wb = ET.fromstring(a["xl/workbook.xml"]), ET.fromstring(b["xl/workbook.xml"])
    sa = [dict(s.attrib) for s in wa.find(f"{{{MAIN}}}sheets")]
    sb = [dict(s.attrib) for s in wb.find(f"{{{MAIN}}}sheets")]
    assert sb[:-1] == sa                 # replaced sheets: same name, position, sheetId, r:id
    assert sb[-1]["name"] == "Tiers"
    assert int(sb[-1]["sheetId"]) > max(int(s["sheetId"]) for s in sa)
    names = [ET.tostring(e) for e in wa.find(f"{{{MAIN}}}definedNames")]
    assert [ET.tostring(e) for e in wb.find(f"{{{MAIN}}}definedNames")] == names
    # only the <sheet> insertion differs
    ta, tb = a["xl/workbook.xml"].decode(), b["xl/workbook.xml"].decode()
    inserted = re.search(r'<sheet name="Tiers"[^>]*/>', tb).group(0)
    assert tb.replace(inserted, "") == ta


def test_openpyxl_reads_values_formulas_and_layout(spliced):
    _, dst = spliced
    wb = openpyxl.load_workbook(dst)
    values = openpyxl.load_workbook(dst, data_only=True)
    assert wb.sheetnames == ["Settings", "Framework", "Units", "Data", "Lookup", "Report",
                             "Scores", "Ranking", "Tiers"]
    ws, vs = wb["Scores"], values["Scores"]
    assert [c.value for c in ws[1]] == ["Code", "Index", "Note", "Share", "Double"]
    assert vs["B2"].value == 61.25 and vs["D2"].value == 0.25
    assert vs["B4"].value == 1 / 3                           # repr precision
    assert vs["B6"].value == -0.1 + 0.3
    assert ws["B5"].value == 7 and vs["D4"].value is True
    # text is text, never a formula
    for ref, text in (("C2", "=SUM(A1:A2)"), ("C3", "+1 not a formula"), ("C4", "@user"),
                      ("C5", "-5"), ("C6", "a < b & c > d")):
        assert ws[ref].value == text and ws[ref].data_type == "s", ref
    # formulas and cached values
    assert ws["E2"].value == "=B2*2" and vs["E2"].value == 122.5
    assert ws["E3"].value == "=B3*2" and vs["E3"].value is None
    assert ws["E4"].value == '=IF(B4>0,"big","small")' and vs["E4"].value == "big"
    assert ws["E5"].value == "=B5>0" and vs["E5"].value is True
    assert ws["E6"].value == "=1/0" and vs["E6"].value == "#DIV/0!"
    # NaN / inf / None: no cell
    assert vs["B3"].value is None and vs["D5"].value is None
    # layout
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == "A1:E6"
    assert ws.sheet_properties.tabColor.rgb == "FF1F4E78"
    assert ws.column_dimensions["A"].width == 14
    assert ws.column_dimensions["C"].width == 30.5
    assert ws["A5"].hyperlink.location == "'Data'!A3"
    assert ws["A6"].hyperlink.target == "https://example.org/?a=1&b=2"
    # styles
    assert ws["A1"].font.b and ws["A1"].fill.fgColor.rgb == "FF1F4E78"
    assert ws["A1"].font.color.rgb == "FFFFFFFF"
    assert ws["A1"].alignment.horizontal == "center" and ws["A1"].alignment.wrap_text
    assert ws["A1"].border.bottom.style == "thin"
    assert ws["B2"].number_format == "0.00"
    assert ws["D2"].number_format == "0%"
    assert ws["B4"].number_format == "0.0000"
    assert ws["B5"].number_format == "0"
    assert ws["A1"].font.sz == wb["Settings"]["A2"].font.sz      # based on the default font
    ranking = wb["Ranking"]
    assert ranking.freeze_panes == "A2" and ranking.auto_filter.ref == "A1:E6"
    assert [c.value for c in ranking["E"]][:3] == ["Score", 98.5, 97.5]
    tiers = wb["Tiers"]
    assert tiers.freeze_panes is None and not tiers.auto_filter.ref
    assert tiers["A2"].fill.fgColor.rgb == "FFC6EFCE" and tiers["B3"].fill.fgColor.rgb == "FFFFEB9C"
    assert tiers.sheet_properties.tabColor.rgb == "FF00B050"
    # everything else as it was
    report = wb["Report"]
    assert report["B2"].value == REPORT_FORMULAS["B2"]
    assert report["B3"].value == REPORT_FORMULAS["B3"]
    assert values["Report"]["B2"].value == 74
    assert wb.defined_names["Weights"].attr_text == "Framework!$B$2:$B$4"
    assert wb["Scores"].defined_names["TopIndex"].attr_text == "Scores!$B$2"
    assert wb["Settings"].defined_names["Alpha"].attr_text == "Settings!$B$2"
    assert wb["Lookup"].sheet_state == "hidden"
    assert len(wb["Settings"]._charts) == 1    # (openpyxl reads pictures only with Pillow)
    assert "DataTable" in wb["Data"].tables
    assert wb["Data"].data_validations.dataValidation
    assert wb["Data"].conditional_formatting


def test_calamine_reads_cached_values(spliced):
    _, dst = spliced
    book = CalamineWorkbook.from_path(str(dst))
    scores = book.get_sheet_by_name("Scores").to_python()
    assert scores[0] == ["Code", "Index", "Note", "Share", "Double"]
    assert scores[1] == ["AAA", 61.25, "=SUM(A1:A2)", 0.25, 122.5]
    assert scores[3][4] == "big" and scores[4][4] is True
    assert scores[2][1] == ""           # NaN: no cell
    tiers = book.get_sheet_by_name("Tiers").to_python()
    assert tiers == [["Code", "Tier"], ["AAA", 1], ["BBB", 2], ["CCC", 3]]


def test_sheet_xml_is_inline_and_schema_ordered(spliced):
    _, dst = spliced
    b = package_parts(dst)
    xml = sheet_xml(b, "Scores")
    assert 't="s"' not in xml and "<f>B2*2</f>" in xml
    assert '<c r="C2" t="inlineStr"><is><t xml:space="preserve">=SUM(A1:A2)</t></is></c>' in xml
    assert 'r="B3"' not in xml and 'r="D5"' not in xml
    assert '<c r="E4" t="str"><f>IF(B4&gt;0,"big","small")</f><v>big</v></c>' in xml
    assert '<c r="E6" t="e"><f>1/0</f><v>#DIV/0!</v></c>' in xml
    order = ["sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData",
             "autoFilter", "hyperlinks", "pageMargins", "drawing"]
    root = ET.fromstring(b[sheet_parts(b)["Scores"]])
    tags = [c.tag.split("}")[1] for c in root]
    assert tags == [t for t in order if t in tags]
    assert tags[:6] == order[:6] and "autoFilter" in tags and "hyperlinks" in tags
    pane = root.find(f"{{{MAIN}}}sheetViews/{{{MAIN}}}sheetView/{{{MAIN}}}pane")
    assert pane.get("state") == "frozen" and pane.get("topLeftCell") == "B2"
    assert root.find(f"{{{MAIN}}}dimension").get("ref") == "A1:E6"


def test_user_chart_on_replaced_sheet_survives(spliced):
    src, dst = spliced
    a, b = package_parts(src), package_parts(dst)
    part = sheet_parts(a)["Ranking"]
    old = [r for r in rels_of(a, part) if r.get("Type").endswith("/drawing")]
    new = [r for r in rels_of(b, part) if r.get("Type").endswith("/drawing")]
    assert len(old) == 1 and [r.attrib for r in new] == [r.attrib for r in old]
    assert f'<drawing r:id="{old[0].get("Id")}"/>' in b[part].decode()
    drawing = resolve(part, old[0].get("Target"))
    assert b[drawing] == a[drawing]
    for rel in rels_of(a, drawing):
        target = resolve(drawing, rel.get("Target"))
        assert b[target] == a[target]
    wb = openpyxl.load_workbook(dst)
    assert len(wb["Ranking"]._charts) == 1
    assert not wb["Scores"]._charts


def test_styles_are_appended_only(spliced):
    src, dst = spliced
    a = ET.fromstring(package_parts(src)["xl/styles.xml"])
    b = ET.fromstring(package_parts(dst)["xl/styles.xml"])
    for local in ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs",
                  "cellStyles", "dxfs"):
        old, new = a.find(f"{{{MAIN}}}{local}"), b.find(f"{{{MAIN}}}{local}")
        if old is None:
            continue
        old_items = [ET.tostring(c) for c in old]
        new_items = [ET.tostring(c) for c in new]
        assert new_items[:len(old_items)] == old_items, local
        assert int(new.get("count")) == len(new_items), local
    ids = [int(n.get("numFmtId")) for n in b.find(f"{{{MAIN}}}numFmts")]
    assert len(ids) == len(set(ids))
    old_ids = {int(n.get("numFmtId")) for n in a.find(f"{{{MAIN}}}numFmts")}
    assert all(i >= 164 for i in set(ids) - old_ids)
    assert len(b.find(f"{{{MAIN}}}cellXfs")) > len(a.find(f"{{{MAIN}}}cellXfs"))
    # built-in formats are not added as custom ones
    codes = {n.get("formatCode") for n in b.find(f"{{{MAIN}}}numFmts")}
    assert not codes & {"General", "0", "0.00", "0%"}
    assert "0.0000" in codes


@pytest.mark.libreoffice
def test_libreoffice_opens_the_result(spliced, tmp_path):
    _, dst = spliced
    profile = (tmp_path / "lo_profile").as_uri()
    out = tmp_path / "lo"

    def convert(target: str) -> None:
        subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless",
                        "--norestore", "--convert-to", target, "--outdir", str(out), str(dst)],
                       check=True, timeout=240, capture_output=True)

    convert("xlsx")
    xlsx = out / f"{dst.stem}.xlsx"
    assert xlsx.exists(), "LibreOffice did not write the converted workbook"
    wb = openpyxl.load_workbook(xlsx, data_only=True)
    assert wb.sheetnames[-3:] == ["Scores", "Ranking", "Tiers"]
    scores = wb["Scores"]
    assert [c.value for c in scores[2]][:4] == ["AAA", 61.25, "=SUM(A1:A2)", 0.25]
    assert scores["E2"].value == 122.5 and scores["E4"].value == "big"
    assert scores["B3"].value is None
    assert [c.value for c in wb["Tiers"]["A"]] == ["Code", "AAA", "BBB", "CCC"]
    assert len(wb["Ranking"]._charts) == 1
    assert wb["Report"]["B3"].value is not None

    convert("csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1")
    csv = out / f"{dst.stem}-Scores.csv"
    assert csv.exists(), "LibreOffice did not write the per-sheet CSV"
    lines = csv.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Code,Index,Note,Share,Double"
    assert lines[1].startswith("AAA,61.25,=SUM(A1:A2),")
    assert (out / f"{dst.stem}-Tiers.csv").read_text(encoding="utf-8").splitlines()[1] == "AAA,1"


# --------------------------------------------------------------------------------------------
# Excel-saved package: prefixes, mc:Ignorable, codeName


def test_excel_saved_package_keeps_namespaces(quickstart, tmp_path):
    dst = tmp_path / "out.xlsm"
    spec = SheetSpec("SHEET1", [hdr("A", "B"), [Cell("x"), Cell(1.5, style=PRECISE)]])
    new = SheetSpec("Results", [hdr("A"), [Cell(2)]])
    splice_sheets(quickstart, dst, [spec, new], full_calc_on_load=True)
    a, b = package_parts(quickstart), package_parts(dst)
    for part in ("xl/workbook.xml", "xl/styles.xml"):
        assert start_tag(b[part]) == start_tag(a[part])         # declarations untouched
        tag = start_tag(b[part]).decode()
        ignorable = re.search(r'mc:Ignorable="([^"]*)"', tag).group(1).split()
        assert ignorable and all(f"xmlns:{p}=" in tag for p in ignorable)
        ET.fromstring(b[part])
    wb_xml = b["xl/workbook.xml"].decode()
    assert "<mc:AlternateContent" in wb_xml and "x15ac:absPath" in wb_xml
    assert "xr:revisionPtr" in wb_xml and "<extLst>" in wb_xml
    assert re.search(r'<calcPr [^>]*fullCalcOnLoad="1"', wb_xml)
    assert re.search(r'<sheet name="Results" sheetId="3" r:id="rId7"/></sheets>', wb_xml)
    styles = b["xl/styles.xml"].decode()
    assert 'x14ac:knownFonts="1"' in styles and "x14:slicerStyles" in styles
    assert styles.index("<numFmts") < styles.index("<fonts")   # created in schema order
    sheet = b["xl/worksheets/sheet1.xml"].decode()
    assert '<sheetPr codeName="Sheet1"/>' in sheet              # VBA document module binding
    assert 'tabSelected="1"' in sheet and 'defaultRowHeight="15.65"' in sheet
    assert b["xl/vbaProject.bin"] == a["xl/vbaProject.bin"]
    assert b["xl/worksheets/sheet2.xml"] == a["xl/worksheets/sheet2.xml"]
    wb = openpyxl.load_workbook(dst, keep_vba=True)
    assert wb.sheetnames == ["Sheet1", "_xlwings.conf", "Results"]
    assert wb["Sheet1"]["B2"].value == 1.5 and wb["Sheet1"]["B2"].number_format == "0.0000"
    assert wb["Sheet1"]["A1"].font.sz == 12                      # the workbook's default font


def test_prefixed_main_namespace_parts(tmp_path):
    """workbook.xml/styles.xml/[Content_Types].xml written with prefixes (``x:``): inserted
    elements use the same prefix."""
    src = make_rich_workbook(tmp_path / "rich.xlsx")

    def prefix_all(xml: bytes, uri: str, p: str) -> bytes:
        text = xml.decode()
        text = re.sub(r"<(/?)(?![?!])([A-Za-z])", rf"<\1{p}:\2", text)
        return text.replace(f'xmlns="{uri}"', f'xmlns:{p}="{uri}"').encode()

    def edit(parts: dict[str, bytes]) -> None:
        parts["xl/workbook.xml"] = prefix_all(parts["xl/workbook.xml"], MAIN, "x")
        parts["xl/styles.xml"] = prefix_all(parts["xl/styles.xml"], MAIN, "x")
        parts["[Content_Types].xml"] = prefix_all(parts["[Content_Types].xml"], CTNS, "ct")

    rewrite_package(src, edit)
    dst = tmp_path / "out.xlsx"
    splice_sheets(src, dst, result_specs(), full_calc_on_load=True)
    b = package_parts(dst)
    assert '<x:sheet name="Tiers"' in b["xl/workbook.xml"].decode()
    styles = b["xl/styles.xml"].decode()
    assert "<x:font><x:b/>" in styles and "<font" not in styles.replace("<x:font", "")
    assert "<ct:Override PartName=\"/xl/worksheets/sheet9.xml\"" in b["[Content_Types].xml"].decode()
    wb = openpyxl.load_workbook(dst)
    assert wb.sheetnames[-1] == "Tiers" and wb["Scores"]["A1"].font.b
    book = CalamineWorkbook.from_path(str(dst))
    assert book.get_sheet_by_name("Tiers").to_python()[1] == ["AAA", 1]


# --------------------------------------------------------------------------------------------
# behaviour details


def test_replacing_only_leaves_workbook_xml_alone(tmp_path):
    src = make_rich_workbook(tmp_path / "rich.xlsx")
    dst = tmp_path / "out.xlsx"
    splice_sheets(src, dst, [SheetSpec("Lookup", [hdr("Key"), [Cell(1)]])])
    a, b = package_parts(src), package_parts(dst)
    assert b["xl/workbook.xml"] == a["xl/workbook.xml"]      # hidden state kept as it was
    assert b["xl/_rels/workbook.xml.rels"] == a["xl/_rels/workbook.xml.rels"]
    assert openpyxl.load_workbook(dst)["Lookup"].sheet_state == "hidden"


def test_part_still_referenced_elsewhere_is_kept(tmp_path):
    src = make_rich_workbook(tmp_path / "rich.xlsx")
    scores = sheet_parts(package_parts(src))["Scores"]
    rels = f"{posixpath.dirname(scores)}/_rels/{posixpath.basename(scores)}.rels"

    def edit(parts: dict[str, bytes]) -> None:   # Scores also points at Settings' picture
        parts[rels] = parts[rels].replace(
            b"</Relationships>", f'<Relationship Id="rId50" Type="{RNS}/image" '
            'Target="../media/image1.png"/></Relationships>'.encode())

    rewrite_package(src, edit)
    dst = tmp_path / "out.xlsx"
    splice_sheets(src, dst, [SheetSpec("Scores", [hdr("A")])])
    a, b = package_parts(src), package_parts(dst)
    assert b["xl/media/image1.png"] == a["xl/media/image1.png"]
    assert "rId50" not in b.get(rels, b"").decode()


def test_dst_stream_and_in_place(tmp_path):
    src = make_rich_workbook(tmp_path / "rich.xlsx")
    buf = io.BytesIO()
    splice_sheets(src, buf, result_specs())
    splice_sheets(src, src, result_specs())
    assert package_parts(io.BytesIO(buf.getvalue())) == package_parts(src)
    assert not list(tmp_path.glob(".~splice-*"))
    assert openpyxl.load_workbook(src).sheetnames[-1] == "Tiers"


def test_deterministic_output(tmp_path):
    src = make_rich_workbook(tmp_path / "rich.xlsx")
    splice_sheets(src, tmp_path / "a.xlsx", result_specs())
    splice_sheets(src, tmp_path / "b.xlsx", result_specs())
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_text_cleaning(tmp_path):
    src = make_rich_workbook(tmp_path / "rich.xlsx")
    dst = tmp_path / "out.xlsx"
    rows = [hdr("Text"), [Cell("a\x00b\x07c\x1fd")], [Cell("x" * 40_000)], [Cell("  pad  ")],
            [Cell("a_x0041_b")], [Cell("l1\r\nl2\rl3")], [Cell("é 😀 \u2028")],
            [Cell("bad \ud800 surrogate")]]
    splice_sheets(src, dst, [SheetSpec("Text", rows)])
    col = [r[0] for r in CalamineWorkbook.from_path(str(dst)).get_sheet_by_name("Text").to_python()]
    assert col[1] == "abcd"
    assert col[2] == "x" * 32_767
    assert col[3] == "  pad  "
    assert col[4] == "a_x0041_b"           # Excel's _xHHHH_ escape applied and decoded
    assert col[5] == "l1\nl2\nl3"
    assert col[6] == "é 😀 \u2028"
    assert col[7] == "bad  surrogate"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(max_size=40), min_size=1, max_size=15))
def test_text_round_trip(tmp_path, texts):
    src = tmp_path / "base.xlsx"
    if not src.exists():
        wb = xlsxwriter.Workbook(str(src))
        wb.add_worksheet("Base").write(0, 0, "base")
        wb.close()
    dst = tmp_path / "out.xlsx"
    splice_sheets(src, dst, [SheetSpec("T", [[Cell(t)] for t in texts])])
    got = [r[0] for r in CalamineWorkbook.from_path(str(dst)).get_sheet_by_name("T").to_python()]

    def clean(t: str) -> str:
        t = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", t)
        return t.replace("\r\n", "\n").replace("\r", "\n")

    assert got == [clean(t) for t in texts]


def test_number_formats_and_style_reuse(tmp_path):
    src = make_rich_workbook(tmp_path / "rich.xlsx")     # has custom numFmt 164 = "0.0%"
    dst = tmp_path / "out.xlsx"
    fmts = ["General", "0", "0.00", "0%", "0.0%", "0.000", "#,##0.0"]
    rows = [hdr(*fmts), [Cell(1.5, style=Style(num_format=f)) for f in fmts],
            [Cell(2.5, style=Style(num_format=f)) for f in fmts]]
    splice_sheets(src, dst, [SheetSpec("Fmt", rows)])
    xml = sheet_xml(package_parts(dst), "Fmt")
    styles = ET.fromstring(package_parts(dst)["xl/styles.xml"])
    xfs = list(styles.find(f"{{{MAIN}}}cellXfs"))
    num_fmts = {int(n.get("numFmtId")): n.get("formatCode")
                for n in styles.find(f"{{{MAIN}}}numFmts")}
    row2 = re.search(r'<row r="2">(.*?)</row>', xml).group(1)
    row3 = re.search(r'<row r="3">(.*?)</row>', xml).group(1)
    s2 = [m and int(m) for m in re.findall(r'<c r="[A-Z]+2"(?: s="(\d+)")?', row2)]
    s3 = [m and int(m) for m in re.findall(r'<c r="[A-Z]+3"(?: s="(\d+)")?', row3)]
    assert s2 == s3                                            # one xf per distinct style
    assert s2[0] == ""                                         # default style: no s attribute
    ids = [int(xfs[s].get("numFmtId")) for s in s2[1:]]
    assert ids[:3] == [1, 2, 9]
    assert ids[3] == 164 and num_fmts[164] == "0.0%"           # existing format reused
    assert ids[4] >= 165 and num_fmts[ids[4]] == "0.000"
    assert ids[5] > ids[4] and num_fmts[ids[5]] == "#,##0.0"


def test_values_of_numpy_and_int_types(tmp_path):
    import numpy as np

    src = make_rich_workbook(tmp_path / "rich.xlsx")
    dst = tmp_path / "out.xlsx"
    rows = [hdr("v"), [Cell(np.float64(1.25))], [Cell(np.int64(7))], [Cell(np.bool_(True))],
            [Cell(2**60)], [Cell(np.float32(np.nan))], [Cell(-0.0)], [Cell(1e-300)]]
    splice_sheets(src, dst, [SheetSpec("Np", rows)])
    col = [r[0] for r in CalamineWorkbook.from_path(str(dst)).get_sheet_by_name("Np").to_python()]
    assert col[1:5] == [1.25, 7, True, float(2**60)]
    assert col[5] == "" and col[7] == 1e-300


def test_large_sheet_streams(tmp_path):
    src = make_rich_workbook(tmp_path / "rich.xlsx")
    dst = tmp_path / "out.xlsx"
    n_rows, n_cols = 1500, 120
    rows = [hdr(*(f"C{j}" for j in range(n_cols)))]
    rows += [[Cell(f"U{i}")] + [Cell(i * 1000 + j + 0.5, style=NUMBER) for j in range(1, n_cols)]
             for i in range(n_rows)]
    splice_sheets(src, dst, [SheetSpec("Scores", rows, freeze=(1, 1))])
    data = CalamineWorkbook.from_path(str(dst)).get_sheet_by_name("Scores").to_python()
    assert len(data) == n_rows + 1 and len(data[0]) == n_cols
    assert data[-1][-1] == (n_rows - 1) * 1000 + n_cols - 1 + 0.5


def test_errors(tmp_path):
    src = make_rich_workbook(tmp_path / "rich.xlsx")
    dst = tmp_path / "out.xlsx"
    with pytest.raises(ValueError, match="two sheet specs"):
        splice_sheets(src, dst, [SheetSpec("Tiers", []), SheetSpec(" TIERS", [])])
    for bad in ("a/b", "x" * 32, "", "'quoted'", "History"):
        with pytest.raises(ValueError):
            splice_sheets(src, dst, [SheetSpec(bad, [])])
    with pytest.raises(ValueError, match="freeze"):
        splice_sheets(src, dst, [SheetSpec("F", [], freeze=(-1, 0))])
    with pytest.raises(ValueError, match="RRGGBB"):
        splice_sheets(src, dst, [SheetSpec("F", [[Cell(1, style=Style(fill="red"))]])])
    with pytest.raises(TypeError):
        splice_sheets(src, dst, [SheetSpec("F", [[Cell(object())]])])  # type: ignore[arg-type]
    assert not dst.exists()

    charts = tmp_path / "charts.xlsx"
    wb = xlsxwriter.Workbook(str(charts))
    wb.add_worksheet("Data").write_column(0, 0, [1, 2, 3])
    chart = wb.add_chart({"type": "line"})
    chart.add_series({"values": "=Data!$A$1:$A$3"})
    wb.add_chartsheet("Chart1").set_chart(chart)
    wb.close()
    with pytest.raises(ValueError, match="not a worksheet"):
        splice_sheets(charts, dst, [SheetSpec("chart1", [])])
    with pytest.raises(ValueError, match="Open XML package"):
        bogus = tmp_path / "bogus.xlsx"
        with zipfile.ZipFile(bogus, "w") as zf:
            zf.writestr("hello.txt", "hi")
        splice_sheets(bogus, dst, [])


def test_empty_and_sparse_sheets(tmp_path):
    src = make_rich_workbook(tmp_path / "rich.xlsx")
    dst = tmp_path / "out.xlsx"
    splice_sheets(src, dst, [SheetSpec("Empty", []),
                             SheetSpec("Sparse", [hdr("a", "b"), [], [Cell(None), Cell(3)]])])
    b = package_parts(dst)
    empty = sheet_xml(b, "Empty")
    assert '<dimension ref="A1"/>' in empty and "<autoFilter" not in empty
    sparse = sheet_xml(b, "Sparse")
    assert '<row r="2"' not in sparse and '<c r="B3"><v>3</v></c>' in sparse
    wb = openpyxl.load_workbook(dst)
    assert wb["Sparse"]["B3"].value == 3 and wb["Empty"].max_row == 1


def test_overlapping_x_escapes_read_back_as_written(tmp_path):
    """Text holding Excel's own escape syntax comes back unchanged (python-calamine decodes
    ``_xHHHH_`` as Excel does), overlapping sequences included."""
    import openpyxl
    from python_calamine import CalamineWorkbook

    from xl_aiindex.workbook.ooxml import splice_sheets
    from xl_aiindex.workbook.sheetspec import Cell, SheetSpec

    src = tmp_path / "a.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Inputs"
    book.save(src)
    texts = ["_x005F_x0041_", "a_x0041_b", "_x0041__x0042_", "plain"]
    splice_sheets(src, tmp_path / "b.xlsx", [SheetSpec("Out", [[Cell(t)] for t in texts])])
    rows = CalamineWorkbook.from_path(str(tmp_path / "b.xlsx")).get_sheet_by_name("Out").to_python()
    assert [r[0] for r in rows] == texts


@pytest.mark.parametrize("in_memory", [False, True], ids=["path", "bytes"])
def test_protection_of_a_large_prefixed_sheet_is_kept(tmp_path, in_memory):
    """The old sheet's ``<x:sheetProtection>`` comes after more than a megabyte of rows (the part
    is read in chunks, on a thread of its own with a reader of its own, from the package's file
    or its bytes in memory, as a recalc gives it) and uses a prefix: the new sheet carries it,
    unprefixed, right after ``sheetData``; a sheet that was not protected gets none."""
    src = tmp_path / "src.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    for name in ("Ranking", "Scores"):
        wb.add_worksheet(name).write(0, 0, "x")
    wb.close()
    rows = "".join(f'<x:row r="{r}"><x:c r="A{r}" t="inlineStr"><x:is><x:t>{"z" * 40}</x:t>'
                   f"</x:is></x:c></x:row>" for r in range(1, 20_001))
    protection = ('<x:sheetProtection algorithmName="SHA-512" hashValue="aGFz+aA=" '
                  'saltValue="c2FsdA==" spinCount="100000" sheet="1" formatColumns="0"/>')

    def edit(parts: dict[str, bytes]) -> None:
        part = sheet_parts(parts)["Ranking"]
        parts[part] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                       f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData>{rows}</x:sheetData>'
                       f"{protection}<x:pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" "
                       f'bottom="0.75" header="0.3" footer="0.3"/></x:worksheet>').encode()

    rewrite_package(src, edit)
    assert len(package_parts(src)[sheet_parts(package_parts(src))["Ranking"]]) > 1 << 20
    assert len(package_parts(src)[sheet_parts(package_parts(src))["Ranking"]]) >= \
        plan_module._READ_BESIDE
    out = tmp_path / "out.xlsx"
    source = io.BytesIO(src.read_bytes()) if in_memory else src
    splice_sheets(source, out, [SheetSpec("Ranking", [hdr("a", "b"), [Cell(1), Cell(2)]]),
                                SheetSpec("Scores", [hdr("a")])])
    parts = package_parts(out)
    xml = sheet_xml(parts, "Ranking")
    assert re.search(r"</sheetData><sheetProtection [^>]*/><autoFilter", xml)
    tag = ET.fromstring(xml).find(f"{{{MAIN}}}sheetProtection")
    assert tag is not None and tag.attrib == {
        "algorithmName": "SHA-512", "hashValue": "aGFz+aA=", "saltValue": "c2FsdA==",
        "spinCount": "100000", "sheet": "1", "formatColumns": "0"}
    assert "sheetProtection" not in sheet_xml(parts, "Scores")
    assert openpyxl.load_workbook(out)["Ranking"].protection.sheet is True
