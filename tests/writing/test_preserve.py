"""``recalc`` keeps everything a user put around the result sheets.

On the rich fixture workbook (:mod:`rich_workbook`: chart, text box, picture, comment, data
validation, conditional formatting, table, defined names, hidden sheet, Report formulas reading
the result sheets; the .xlsm variant with a VBA project and a button), a recalc through the
command line — in place and with ``-o``, once and twice — changes only the result sheets and the
few shared parts that list them; every other part of the package is byte-identical, the
formulas pointing at result sheets still read them, and LibreOffice opens the result.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import signal
import subprocess
import uuid
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest
from conftest import run
from rich_workbook import REPORT_FORMULAS, make_rich_workbook

from xl_aiindex.workbook.fingerprint import STORE_SHEET
from xl_aiindex.workbook.ooxml import package_parts

#: Sheets recalc rewrites or adds (values mode).
RESULT_SHEETS = {"Scores", "Ranking", "Tiers", "WeightsUsed", "GroupRanking", "Charts", "Compare",
                 "Log", STORE_SHEET}
#: Shared parts that list the sheets (and may change with them).
SHARED = {"[Content_Types].xml", "xl/_rels/workbook.xml.rels", "xl/workbook.xml", "xl/styles.xml",
          "xl/calcChain.xml"}
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "p": "http://schemas.openxmlformats.org/package/2006/relationships"}
SOFFICE = shutil.which("soffice")


def rels_of(parts: dict[str, bytes], part: str) -> list[tuple[str, str]]:
    """(type, resolved target) of each internal relationship of ``part``."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    if rels not in parts:
        return []
    out = []
    for rel in ET.fromstring(parts[rels]).findall("p:Relationship", NS):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        target = target[1:] if target.startswith("/") else posixpath.normpath(
            posixpath.join(folder, target))
        out.append((rel.get("Type", "").rpartition("/")[2], target))
    return out


def sheet_parts(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet name -> its part."""
    book = ET.fromstring(parts["xl/workbook.xml"])
    targets = {}
    for rel in ET.fromstring(parts["xl/_rels/workbook.xml.rels"]).findall("p:Relationship", NS):
        targets[rel.get("Id")] = posixpath.normpath(posixpath.join("xl", rel.get("Target", "")))
    return {s.get("name"): targets[s.get(f"{{{NS['r']}}}id")]
            for s in book.find("m:sheets", NS)}


def sheet_states(parts: dict[str, bytes]) -> dict[str, str]:
    book = ET.fromstring(parts["xl/workbook.xml"])
    return {s.get("name"): s.get("state", "visible") for s in book.find("m:sheets", NS)}


def defined_names(parts: dict[str, bytes]) -> bytes:
    m = re.search(rb"<definedNames>.*</definedNames>", parts["xl/workbook.xml"], re.S)
    assert m is not None
    return m.group(0)


def assert_only_results_changed(before: dict[str, bytes], after: dict[str, bytes]) -> None:
    """Every part of ``before`` is byte-identical in ``after``, except the result sheets, their
    relationships and what only they referred to (dropped, drawings excepted), and the shared
    parts that list sheets."""
    sheets = sheet_parts(before)
    result_parts = {part for name, part in sheets.items() if name in RESULT_SHEETS}
    may_change = SHARED | result_parts | {
        posixpath.join(posixpath.dirname(p), "_rels", posixpath.basename(p) + ".rels")
        for p in result_parts}
    may_go = {target for part in result_parts for kind, target in rels_of(before, part)
              if kind != "drawing"}
    may_go |= {posixpath.join(posixpath.dirname(p), "_rels", posixpath.basename(p) + ".rels")
               for p in may_go}
    for name, data in before.items():
        if name in may_change or name.startswith("docProps/"):
            continue
        if name not in after:
            assert name in may_go, f"{name} was removed"
            continue
        assert after[name] == data, f"{name} changed"
    # result sheets keep their parts (formulas and defined names elsewhere still point at them)
    new_sheets = sheet_parts(after)
    for name, part in sheets.items():
        assert new_sheets[name] == part, name
    assert list(new_sheets)[: len(sheets)] == list(sheets)   # same order; new ones appended


def assert_rich_features(parts: dict[str, bytes], vba: bool) -> None:
    """What the user had is all there."""
    sheets = sheet_parts(parts)
    # a chart of the framework weights, a text box and a picture on Settings
    settings_rels = rels_of(parts, sheets["Settings"])
    (drawing,) = [t for k, t in settings_rels if k == "drawing"]
    kinds = {k for k, _ in rels_of(parts, drawing)}
    assert {"chart", "image"} <= kinds
    assert b"Notes: keep this text box" in parts[drawing]
    assert any(t.endswith(".png") for _, t in rels_of(parts, drawing))
    # the user's chart on Ranking, kept with its drawing
    (ranking_drawing,) = [t for k, t in rels_of(parts, sheets["Ranking"]) if k == "drawing"]
    assert [k for k, _ in rels_of(parts, ranking_drawing)] == ["chart"]
    # Data: comment, table, data validation, conditional formatting
    data_rels = dict((k, t) for k, t in rels_of(parts, sheets["Data"]))
    assert b"Economic pillar, raw values" in parts[data_rels["comments"]]
    assert b'name="DataTable"' in parts[data_rels["table"]]
    assert b"<dataValidations" in parts[sheets["Data"]]
    assert b"<conditionalFormatting" in parts[sheets["Data"]]
    # defined names, hidden sheet
    names = defined_names(parts)
    assert b'name="Weights"' in names and b'name="Alpha"' in names
    assert sheet_states(parts)["Lookup"] == "hidden"
    if vba:
        assert "xl/vbaProject.bin" in parts
        assert b"macroEnabled" in parts["[Content_Types].xml"]
        vml = [t for k, t in rels_of(parts, sheets["Report"]) if k == "vmlDrawing"]
        assert vml and b"SampleCall" in parts[vml[0]]   # the button, bound to its macro


def assert_formulas_still_read_results(path: Path, vba: bool) -> None:
    book = openpyxl.load_workbook(path, keep_vba=vba)
    report = book["Report"]
    for ref, formula in REPORT_FORMULAS.items():
        assert report[ref].value == formula
    assert report["B4"].value == "=SUM(Weights)"
    assert book["Ranking"]["E1"].value == "score"       # what =Ranking!E2 now reads
    assert book["Scores"]["B1"].value == "name_zh"
    assert book["Lookup"].sheet_state == "hidden"
    assert book[STORE_SHEET].sheet_state == "veryHidden"
    assert "Weights" in book.defined_names
    assert "TopIndex" in book["Scores"].defined_names


@pytest.mark.parametrize("vba", [False, True], ids=["xlsx", "xlsm"])
@pytest.mark.parametrize("in_place", [True, False], ids=["in-place", "output"])
def test_recalc_changes_only_the_result_sheets(tmp_path, vba, in_place):
    book = make_rich_workbook(tmp_path / ("rich.xlsm" if vba else "rich.xlsx"), vba=vba)
    original = package_parts(book)
    original_bytes = book.read_bytes()
    out = book if in_place else tmp_path / ("out.xlsm" if vba else "out.xlsx")
    args = ["recalc", book, "--top", "0"] + ([] if in_place else ["-o", out])
    # its old Scores and Ranking carry no fingerprint of the tool: refused, then forced
    r = run(*args)
    assert r.exit_code == 1 and "sheet 'Scores' was not written by xl-aiindex" in r.output
    assert package_parts(book) == original and not out.exists() or in_place
    r = run(*args, "--force")
    assert r.exit_code == 0, r.output
    if not in_place:
        assert book.read_bytes() == original_bytes
    once = package_parts(out)
    assert_only_results_changed(original, once)
    assert_rich_features(once, vba)
    assert defined_names(once) == defined_names(original)
    assert_formulas_still_read_results(out, vba)
    # and again: the result sheets (now with Tiers, WeightsUsed, Log, the store) are replaced,
    # nothing else moves
    r = run("recalc", out, "--top", "0")
    assert r.exit_code == 0, r.output
    twice = package_parts(out)
    assert_only_results_changed(once, twice)
    assert_rich_features(twice, vba)
    assert_formulas_still_read_results(out, vba)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


# --------------------------------------------------------------------------------------------
# LibreOffice


def soffice_convert(src: Path, outdir: Path, target: str, timeout: float = 240) -> None:
    """Convert ``src`` with headless LibreOffice into ``outdir`` (a throwaway profile, the whole
    process group killed on timeout). ``soffice`` exits 0 even when it could not load the file:
    the caller checks the output exists."""
    assert SOFFICE is not None
    profile = Path("/tmp") / f"xl-aiindex-lo-{uuid.uuid4().hex}"
    try:
        p = subprocess.Popen([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                              "--norestore", "--nolockcheck", "--convert-to", target, "--outdir",
                              str(outdir), str(src)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
        try:
            p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            pytest.fail(f"LibreOffice did not finish converting {src.name} in {timeout} s")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.libreoffice
@pytest.mark.parametrize("vba", [False, True], ids=["xlsx", "xlsm"])
def test_libreoffice_opens_the_recalculated_workbook(tmp_path, vba):
    book = make_rich_workbook(tmp_path / ("rich.xlsm" if vba else "rich.xlsx"), vba=vba)
    assert run("recalc", book, "--top", "0", "--force").exit_code == 0
    out = tmp_path / "lo"
    # every sheet to its own CSV (the last filter option, -1); UTF-8, comma-separated
    soffice_convert(book, out, "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,"
                               "false,false,-1")
    ranking = out / f"{book.stem}-Ranking.csv"
    assert ranking.exists(), "LibreOffice could not open the recalculated workbook"
    lines = ranking.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "rank,unit,name_zh,name_en,score,tier,ECO,SOC,ENV"
    assert lines[1].startswith("1,EEE,单位5,Unit EEE,65,")
    assert (out / f"{book.stem}-Report.csv").exists()
    assert (out / f"{book.stem}-Data.csv").read_text(encoding="utf-8").splitlines()[0] == \
        "unit,ECO,SOC,ENV"
