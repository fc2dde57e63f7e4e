"""What Excel imports: the VBA wrappers xlwings generates for ``udfs`` on Windows.

On Linux the xlwings decorators are pass-through. To see what *Import Functions* would write, a
subprocess stubs the Windows-only modules, swaps in xlwings' real Windows decorators
(``xlwings.udfs.xlfunc``…) before importing ``udfs``, and runs xlwings' own
``generate_vba_wrapper`` (see FACTS.md). The subprocess keeps those stubs away from other tests.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import REPO

import udfs
from udfs.why import error_code
from xl_aiindex.errors import XlAiIndexError
from xl_aiindex.workbook.xlsm import build_xlsm

PROBE = r'''
import io, json, sys, types
from types import SimpleNamespace
for name in ("pythoncom", "pywintypes", "win32api", "win32com", "win32com.client"):
    sys.modules[name] = types.ModuleType(name)
sys.modules["pythoncom"].CoInitialize = lambda: None
sys.modules["pywintypes"].com_error = Exception
sys.modules["win32com.client"].Dispatch = lambda *a, **k: None
sys.modules["win32com"].client = sys.modules["win32com.client"]
import xlwings
import xlwings.udfs as xu
from xlwings.conversion import accessors
xlwings.func, xlwings.arg, xlwings.ret, xlwings.script = xu.xlfunc, xu.xlarg, xu.xlret, xu.xlsub
import udfs
out = io.StringIO()
xu.generate_vba_wrapper("udfs", udfs, out, SimpleNamespace(Name="city_ai_index_2020.xlsm"))
meta = {}
for name in dir(udfs):
    f = getattr(udfs, name)
    if not hasattr(f, "__xlfunc__"):
        continue
    x = f.__xlfunc__
    meta[name] = {
        "sub": x["sub"], "volatile": x["volatile"], "category": x["category"],
        "call_in_wizard": x["call_in_wizard"],
        "doc": x["ret"]["doc"],
        "ret_convert_known": x["ret"]["options"].get("convert") in accessors,
        "args": [{"name": a["name"], "vba": a["vba"], "doc": a["doc"],
                  "optional": "optional" in a,
                  "convert_known": a["options"].get("convert") in accessors,
                  "err_to_str": a["options"].get("err_to_str", False),
                  "ndim": a["options"].get("ndim")} for a in x["args"]],
    }
print(json.dumps({"vba": out.getvalue(), "meta": meta}))
'''

FUNCTIONS = ("AI_INDEX", "AI_SUBINDEX", "AI_RANK", "AI_TIER", "AI_WEIGHT", "AI_RANKING",
             "AI_SCORES", "AI_RANK_INTERVAL", "AI_FIT_WEIGHTS", "AI_WHY")
READ_THE_WORKBOOK = FUNCTIONS[:-2]  # every one but AI_FIT_WEIGHTS and AI_WHY
MACROS = ("rebuild_results", "validate_inputs")


@pytest.fixture(scope="module")
def imported() -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def block(vba: str, kind: str, name: str) -> str:
    """The text of one generated ``Function``/``Sub`` wrapper."""
    m = re.search(rf"^{kind} {name}\(.*?^End {kind}$", vba, re.M | re.S)
    assert m, f"no {kind} {name} in the generated VBA"
    return m.group(0)


def test_every_function_is_declared_with_its_visible_arguments(imported: dict[str, Any]) -> None:
    vba = imported["vba"]
    signatures = {
        # year: optional, a panel's year (issue #24): =AI_RANK("北京",, 2021)
        "AI_INDEX": "(city, Optional year)", "AI_SUBINDEX": "(city, node, Optional year)",
        "AI_RANK": "(city, Optional group, Optional year)",
        "AI_TIER": "(city, Optional as_label, Optional year)", "AI_WEIGHT": "(node)", "AI_RANKING": "()",
        "AI_SCORES": "()", "AI_RANK_INTERVAL": "(city)", "AI_FIT_WEIGHTS": "(subscores, totals)",
        "AI_WHY": "(cell)",
    }
    for name in FUNCTIONS:
        assert f"Function {name}{signatures[name]}\n" in vba
        assert f'XLPy.CallUDF("udfs", "{name}", ' in block(vba, "Function", name)
    assert set(imported["meta"]) == set(FUNCTIONS) | set(MACROS)  # nothing else reaches Excel


def test_caller_is_hidden_and_filled_in_by_xlwings(imported: dict[str, Any]) -> None:
    vba = imported["vba"]
    for name in READ_THE_WORKBOOK:
        text = block(vba, "Function", name)
        signature = text.splitlines()[0]
        assert "caller" not in signature
        assert "Nothing), ThisWorkbook, Application.Caller)" in text  # the caller's slot
        args = imported["meta"][name]["args"]
        assert args[-1]["name"] == "caller" and args[-1]["vba"] == "Nothing"


def test_application_volatile_where_decided(imported: dict[str, Any]) -> None:
    vba = imported["vba"]
    for name in READ_THE_WORKBOOK:
        body = block(vba, "Function", name).splitlines()
        # not called while the Insert Function dialog is open (call_in_wizard=False)
        assert body[1].strip() == ('If (Not Application.CommandBars("Standard").Controls(1)'
                                   '.Enabled) Then Exit Function'), name
        assert body[2].strip() == "Application.Volatile", name
        assert imported["meta"][name]["volatile"] is True
        assert imported["meta"][name]["call_in_wizard"] is False
    for name in ("AI_FIT_WEIGHTS", "AI_WHY"):  # they depend on their arguments only
        assert "Application.Volatile" not in block(vba, "Function", name)
        assert imported["meta"][name]["volatile"] is False


def test_error_cells_arrive_as_errors(imported: dict[str, Any]) -> None:
    """Every argument a person fills in has err_to_str: an error cell arrives as its text."""
    for name in FUNCTIONS:
        for arg in imported["meta"][name]["args"]:
            if arg["vba"] is None and arg["name"] != "cell":
                assert arg["err_to_str"] is True, (name, arg["name"])


def test_macros_are_subs_without_arguments(imported: dict[str, Any]) -> None:
    vba = imported["vba"]
    for name in MACROS:
        text = block(vba, "Sub", name)
        assert text.startswith(f"Sub {name}()\n")  # a button or Alt+F8 can run it
        assert f'XLPy.CallUDF "udfs", "{name}", Array(Nothing), ThisWorkbook' in text
        assert imported["meta"][name]["sub"] is True


def test_help_texts_fit_excel(imported: dict[str, Any]) -> None:
    """Excel's function wizard shows the docstring and one text per argument (255 chars max)."""
    for name in FUNCTIONS:
        meta = imported["meta"][name]
        assert meta["category"] == "xl-aiindex"
        assert 40 < len(meta["doc"]) <= 255 and "\n" not in meta["doc"], name
        for arg in meta["args"]:
            if arg["vba"] is None:  # shown to the user
                assert not arg["doc"].startswith("Positional argument"), (name, arg["name"])
                assert len(arg["doc"]) <= 255
    for name in MACROS:
        assert len(imported["meta"][name]["doc"]) <= 255


def test_every_annotation_has_an_xlwings_converter(imported: dict[str, Any]) -> None:
    """On Windows xlwings turns annotations into converters; an unregistered one (``-> None``,
    ``str | None``) would fail in Excel although it passes on Linux."""
    for name, meta in imported["meta"].items():
        assert meta["ret_convert_known"], name
        assert all(a["convert_known"] for a in meta["args"]), name
    ranges = {a["name"]: a["ndim"] for a in imported["meta"]["AI_FIT_WEIGHTS"]["args"]}
    assert ranges == {"subscores": 2, "totals": 2, "caller": None}


# ---- the macro-enabled workbook ----

REFERENCE = REPO / "workbooks" / "city_ai_index_2020.xlsx"


@pytest.fixture(scope="module")
def xlsm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_xlsm(REFERENCE, tmp_path_factory.mktemp("xlsm") / "city_ai_index_2020.xlsm")


def rows_of(path: Path, sheet: str, data_only: bool = True) -> list[list[Any]]:
    book = openpyxl.load_workbook(path, data_only=data_only)
    ws = book[sheet]
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_xlsm_carries_its_own_vba_project(xlsm: Path, imported: dict[str, Any]) -> None:
    from xl_aiindex.workbook.excel_vba import (
        function_help,
        read_vba_modules,
        wrapper_module,
        xlwings_version,
    )

    with zipfile.ZipFile(xlsm) as z:
        modules = read_vba_modules(z.read("xl/vbaProject.bin"))
        types = z.read("[Content_Types].xml").decode()
        vml = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist()
                      if n.endswith(".vml"))
    # the wrappers are what xlwings' generator writes (run independently above), each Function
    # passing its answer through XlAiIndexResult
    expected = wrapper_module(imported["vba"], xlwings_version(), function_help())
    assert modules["xlwings_udfs"] == expected
    plain = expected.replace("\r\n", "\n")
    assert plain.count(" = XlAiIndexResult(") == 2 * len(FUNCTIONS)
    # the macros' Mac branch (tested below) taken out, the rest is the generator's text
    generated = re.sub(r'^(\s*)#If Mac Then\n\s*RunPython "[^"\n]*"\n\s*#ElseIf ', r"\1#If ", plain,
                       flags=re.M)
    assert re.sub(r"^\s*(\w+) = XlAiIndexResult\(\1\)\n", "", generated, flags=re.M).split(
        "Private Function XlAiIndexResult")[0].endswith(imported["vba"].replace("\r\n", "\n"))
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types
    for macro in MACROS:  # the two buttons call Subs that are there
        assert f"<x:FmlaMacro>[0]!{macro}</x:FmlaMacro>" in vml
        assert f"\r\nSub {macro}()\r\n" in modules["xlwings_udfs"]


def close(rows: list[list[Any]]) -> list[list[Any]]:
    """Rows whose numbers compare equal within 1e-14 (relative)."""
    return [[pytest.approx(v, rel=1e-14, abs=1e-300) if isinstance(v, float) else v for v in row]
            for row in rows]


def widths(ws: Any) -> dict[int, float]:
    """Column widths by column number (a <col> element may span several columns)."""
    out = {}
    for dim in ws.column_dimensions.values():
        if dim.width and dim.customWidth:
            for c in range(dim.min, (dim.max or dim.min) + 1):
                out[c] = dim.width
    return out


def test_xlsm_copies_every_sheet_of_the_xlsx(xlsm: Path) -> None:
    src = openpyxl.load_workbook(REFERENCE)
    out = openpyxl.load_workbook(xlsm, keep_vba=True)
    assert out.sheetnames == [*src.sheetnames, "Examples", "xlwings.conf"]
    for name in src.sheetnames:
        # numbers: xlsxwriter writes 16 significant digits (Excel shows 15)
        for data_only in (True, False):
            want = rows_of(REFERENCE, name, data_only)
            got = rows_of(xlsm, name, data_only)
            if name == "_xl_aiindex":   # the store adds the fingerprints of the sheets built
                assert {r[0] for r in got[len(want):]} == {"Examples", "xlwings.conf"}
                got = got[:len(want)]
            assert got == close(want), name
        a, b = src[name], out[name]
        assert b.freeze_panes == a.freeze_panes
        assert len(b.data_validations.dataValidation) == len(a.data_validations.dataValidation)
        assert [dv.formula1 for dv in b.data_validations.dataValidation] == \
            [dv.formula1 for dv in a.data_validations.dataValidation]
        comments = [(c.coordinate, c.comment.text) for row in a.iter_rows() for c in row if c.comment]
        assert comments == [(c.coordinate, c.comment.text) for row in b.iter_rows() for c in row
                            if c.comment]
        assert b["A1"].font.b == a["A1"].font.b and b["A1"].fill.fgColor.rgb == a["A1"].fill.fgColor.rgb
        assert widths(b) == pytest.approx(widths(a), abs=0.02)
    assert len(list(out["Framework"].conditional_formatting)) == \
        len(list(src["Framework"].conditional_formatting))


def test_xlsm_computes_like_the_xlsx(xlsm: Path) -> None:
    assert udfs.AI_INDEX("北京", caller=xlsm) == udfs.AI_INDEX("北京", caller=REFERENCE)


def config_block(path: Path) -> dict[str, Any]:
    """The settings xlwings' VBA reads: column A from A1 down to the first blank cell."""
    rows = rows_of(path, "xlwings.conf")
    out = {}
    for row in rows:
        if row[0] is None:
            break
        out[str(row[0]).upper()] = row[1]
    return out


def test_xlwings_conf(xlsm: Path, tmp_path: Path) -> None:
    assert config_block(xlsm) == {"UDF MODULES": "udfs"}
    keys = [r[0] for r in rows_of(xlsm, "xlwings.conf")]
    for k in ("Interpreter_Win", "Interpreter_Mac", "PYTHONPATH", "Debug UDFs"):
        assert k in keys  # present, documented, inactive below the block
    pinned = build_xlsm(REFERENCE, tmp_path / "pinned.xlsm", interpreter_win=r"C:\py\python.exe")
    assert config_block(pinned) == {"UDF MODULES": "udfs", "INTERPRETER_WIN": r"C:\py\python.exe"}


def test_xlsm_is_reproducible(xlsm: Path, tmp_path: Path) -> None:
    again = build_xlsm(REFERENCE, tmp_path / "again.xlsm")
    assert again.read_bytes() == xlsm.read_bytes()


def test_xlsm_rejects_a_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(XlAiIndexError, match="must end in .xlsm"):
        build_xlsm(REFERENCE, tmp_path / "book.xlsx")


# a tiny evaluator for the Examples sheet: each formula run with the Python UDFs

def _translate(formula: str, book: openpyxl.Workbook) -> str:
    """An Excel formula of the Examples sheet as a Python expression."""
    parts = re.split(r'("(?:[^"]|"")*")', formula.lstrip("="))
    out = []
    ranges: list[str] = []

    def keep(m: re.Match[str]) -> str:
        ranges.append(f"RANGE({m.group(1)!r},'{m.group(2)}{m.group(3)}','{m.group(4)}{m.group(5)}')")
        return f"@{len(ranges) - 1}@"

    for i, part in enumerate(parts):
        if i % 2:  # a string literal
            out.append(repr(part[1:-1].replace('""', '"')))
            continue
        part = re.sub(r"'([^']+)'!\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)", keep, part)
        part = re.sub(r"\{([^}]*)\}", lambda m: "[" + ",".join(
            "[" + r + "]" for r in m.group(1).split(";")) + "]", part)
        part = re.sub(r"\b([A-D])(\d+)\b", r"CELL('\1\2')", part)
        part = re.sub(r"@(\d+)@", lambda m: ranges[int(m.group(1))], part)
        part = part.replace("<>", "!=").replace("TRUE", "True")
        part = re.sub(r"(?<![<>!=])=(?!=)", "==", part)
        out.append(part)
    return "".join(out)


def test_examples_self_tests_read_true_with_the_python_udfs(xlsm: Path) -> None:
    book = openpyxl.load_workbook(xlsm, data_only=True)
    formulas = openpyxl.load_workbook(xlsm)["Examples"]
    computed: dict[str, Any] = {}

    def search(needle: str, hay: Any) -> Any:
        i = str(hay).lower().find(needle.lower())
        return i + 1 if i >= 0 else ValueError

    class XlError:
        """An Excel error value, as XlAiIndexResult makes one, carrying its reason."""

        def __init__(self, code: str, reason: str):
            self.code, self.reason = code, reason

    def as_excel(f: Any) -> Any:
        def call(*args: Any) -> Any:
            answer = f(*args)
            code = error_code(answer)
            return XlError(code, answer[len("#AI! "):]) if code else answer
        return call

    env: dict[str, Any] = {
        **{name: as_excel(getattr(udfs, name)) for name in FUNCTIONS},
        "AI_WHY": lambda v: v.reason if isinstance(v, XlError) else "no error",
        "ISNA": lambda v: isinstance(v, XlError) and v.code == "#N/A",
        "ISERROR": lambda v: isinstance(v, XlError),
        "IFERROR": lambda v, alt: alt if isinstance(v, XlError) else v,
        "ISTEXT": lambda v: isinstance(v, str),
        "ROWS": len, "COLUMNS": lambda t: len(t[0]), "INDEX": lambda t, r, c: t[r - 1][c - 1],
        "ABS": abs, "LEFT": lambda s, n: str(s)[:n], "SEARCH": search,
        "ISNUMBER": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "CELL": lambda ref: computed[ref],
        "RANGE": lambda sheet, a, b: [[c.value for c in row] for row in book[sheet][a:b]],
    }
    used = set()
    with udfs.use_book(xlsm):
        for r in range(2, formulas.max_row + 1):
            live, test = (getattr(v, "text", v) for v in (formulas[f"C{r}"].value,
                                                           formulas[f"D{r}"].value))
            if not (isinstance(live, str) and live.startswith("=")):
                continue
            used.update(re.findall(r"\b(AI_[A-Z_]+)\(", live))
            computed[f"C{r}"] = eval(_translate(live, book), env)  # noqa: S307
            assert eval(_translate(test, book), env) is True, (live, test, computed[f"C{r}"])
            assert book["Examples"][f"D{r}"].value is True  # the cached self-test result
            cached = book["Examples"][f"C{r}"].value  # the cached result, an error as an error
            now = computed[f"C{r}"]
            assert (cached == now.code) if isinstance(now, XlError) else (cached == pytest.approx(now))
    # every UDF is exercised, but AI_RANK_INTERVAL: the .xlsm (input = given) has no
    # uncertainty run to read (tests/engine/test_uncertainty.py calls it on one)
    assert used == set(FUNCTIONS) - {"AI_RANK_INTERVAL"}


# ---- Insert Function help, the Mac, and opening (issue #21) ----

def vba_modules_of(path: Path) -> dict[str, str]:
    """The modules of a workbook as olevba decompresses them (an independent reader)."""
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(path))
    try:
        return {name.rsplit(".", 1)[0]: code.replace("\r\n", "\n")
                for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def vba_string(expression: str) -> str:
    """The value of a VBA string expression made of "literals" and ChrW(n) joined by &."""
    out = []
    for literal, code in re.findall(r'\s*(?:"((?:[^"]|"")*)"|ChrW\((\d+)\))\s*(?:&|$)', expression):
        out.append(chr(int(code)) if code else literal.replace('""', '"'))
    rebuilt = " & ".join(f'"{x}"' for x in out)
    assert len(out) == expression.count("&") + 1, (expression, rebuilt)
    return "".join(out).encode("utf-16", "surrogatepass").decode("utf-16")


def registered_help(udfs_vba: str) -> dict[str, tuple[str, str, list[str]]]:
    """Function -> (description, category, argument descriptions) as XlAiIndexOnOpen passes
    them to Application.MacroOptions, read by running its assignments."""
    body = udfs_vba.split("Public Sub XlAiIndexOnOpen(")[1].split("End Sub")[0]
    values: dict[str, Any] = {}
    out = {}
    for line in body.split("\n"):
        line = line.strip()
        if m := re.fullmatch(r"(d|args\(\d+\)) = \1 & (.+)", line):
            values[m.group(1)] += vba_string(m.group(2))
        elif m := re.fullmatch(r"(d|args\(\d+\)) = (.+)", line):
            values[m.group(1)] = vba_string(m.group(2))
        elif line.startswith("ReDim args(") or line == "args = Array()":   # the next function's
            values = {"d": values.get("d")}
        elif m := re.fullmatch(r'XlAiIndexDescribe book, "(\w+)", d, "([^"]*)", args', line):
            args = [values[k] for k in sorted((k for k in values if k.startswith("args(")),
                                              key=lambda k: int(k[5:-1]))]
            out[m.group(1)] = (values["d"], m.group(2), args)
    return out


def test_workbook_open_registers_the_help_of_every_function(xlsm: Path,
                                                           imported: dict[str, Any]) -> None:
    """Insert Function lists the functions under xl-aiindex with their help: Workbook_Open calls
    Application.MacroOptions for each, with the texts of their Python definitions (read here by
    the independent probe above), never stopping the workbook opening."""
    modules = vba_modules_of(xlsm)
    this, udfs_vba = modules["ThisWorkbook"], modules["xlwings_udfs"]
    assert re.search(r"^Private Sub Workbook_Open\(\)\n    On Error Resume Next.*\n"
                     r"    XlAiIndexOnOpen Me .*\nEnd Sub$", this, re.M)
    on_open = udfs_vba.split("Public Sub XlAiIndexOnOpen(ByVal book As Object)\n")[1]
    assert on_open.split("\n")[2].strip() == "On Error Resume Next"   # before anything runs
    describe = udfs_vba.split("Private Sub XlAiIndexDescribe(")[1].split("End Sub")[0]
    assert "On Error Resume Next" in describe
    assert describe.count("Application.MacroOptions Macro:=target") == 3
    assert "ArgumentDescriptions:=args" in describe
    assert "target = \"'\" & Replace(book.Name, \"'\", \"''\") & \"'!\" & fname" in describe
    help_ = registered_help(udfs_vba)
    assert set(help_) == set(FUNCTIONS)    # every function, no macro
    for name in FUNCTIONS:
        meta = imported["meta"][name]
        shown = [a["doc"] for a in meta["args"] if a["vba"] is None]
        assert help_[name] == (meta["doc"], "xl-aiindex", shown), name
    assert "第一梯队" in help_["AI_TIER"][2][1]   # non-ASCII text survives through ChrW
    # the source is ASCII (any code page holds it)
    assert all(ord(ch) < 128 for ch in udfs_vba.split("Public Sub XlAiIndexOnOpen")[1])
    assert all(ord(ch) < 128 for ch in this)


def test_workbook_open_calculates_once_unless_calculation_is_manual(xlsm: Path) -> None:
    """Cells calculated before macros were enabled show #NAME?: opening with macros enabled
    recalculates everything once (manual calculation mode left alone); the help registration
    does not mark the workbook changed."""
    udfs_vba = vba_modules_of(xlsm)["xlwings_udfs"]
    on_open = udfs_vba.split("Public Sub XlAiIndexOnOpen(")[1].split("End Sub")[0]
    assert "If Application.Calculation <> -4135 Then Application.CalculateFull" in on_open
    assert on_open.index("wasSaved = book.Saved") < on_open.index("XlAiIndexDescribe") \
        < on_open.index("book.Saved = wasSaved")
    # the Windows-only part is skipped on the Mac
    assert on_open.index("#If Mac Then") < on_open.index("#Else") < on_open.index("XlAiIndexDescribe")


def test_macros_run_through_runpython_on_the_mac(xlsm: Path) -> None:
    """On the Mac `#If App = "Microsoft Excel"` is true too and XLPy.CallUDF (a Windows DLL)
    fails: each button's Sub runs RunPython there, and CallUDF stays the Windows path."""
    modules = vba_modules_of(xlsm)
    udfs_vba = modules["xlwings_udfs"]
    for name in MACROS:
        text = block(udfs_vba, "Sub", name)
        assert text.split("\n")[1:5] == [
            "    #If Mac Then",
            f'        RunPython "import udfs; udfs.{name}()"',
            '    #ElseIf App = "Microsoft Excel" Then',
            f'        XLPy.CallUDF "udfs", "{name}", Array(Nothing), ThisWorkbook, Application.Caller',
        ], text
        # the Python statement RunPython runs names the macro udfs exports
        assert callable(getattr(udfs, name))
    # RunPython is xlwings' public VBA API taking the Python statement (its own xlwings.bas)
    assert re.search(r"^Public Function RunPython\(PythonCommand As String\)", modules["xlwings"],
                     re.M)
    assert "ExecuteMac PythonCommand" in modules["xlwings"]
    for name in FUNCTIONS:   # worksheet functions keep xlwings' generated code
        assert "#If Mac Then" not in block(udfs_vba, "Function", name)
