"""xl-aiindex in xlwings Lite (:mod:`xl_aiindex.lite`): the same answers as the desktop functions.

In CPython the Lite functions are plain Python (xlwings Lite's decorators are stand-ins outside
Pyodide): each is called with the input sheets as xlwings Lite hands them over (2-D lists of
values, blanks as ``""``, the defined names' slack rows and columns) and compared with the
desktop UDF (``udfs``) on the same workbook. The Pyodide run is in ``test_lite_pyodide.py``.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import REPO, run

import udfs
from xl_aiindex import lite, pipeline
from xl_aiindex.contract import key
from xl_aiindex.lite import scripts
from xl_aiindex.lite.functions import IndexModelHandle
from xl_aiindex.workbook.calamine_source import CalamineSource

SHIPPED = sorted((REPO / "workbooks").glob("city_ai_index_2020*.xls*"))
FORBIDDEN = ("python_calamine", "openpyxl", "click", "defusedxml", "olefile", "xlwings",
             "scipy", "xlsxwriter")


def sheets_of(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's values as read from the file (what Excel holds)."""
    source = CalamineSource(path)
    try:
        return {name: source.grid(name).values for name in source.sheet_names()}
    finally:
        source.close()


def as_lite(rows: list[list[Any]] | None, slack: int = 3) -> list[list[Any]]:
    """A sheet as xlwings Lite passes a range to a function: blanks as ``""``, whole numbers as
    JavaScript numbers, plus ``slack`` blank rows and columns (the defined names leave room)."""
    if not rows:
        return [[""]]
    width = max(len(r) for r in rows) + slack
    out = [[("" if v is None else float(v) if isinstance(v, int) and not isinstance(v, bool)
             else v) for v in r] + [""] * (width - len(r)) for r in rows]
    return out + [[""] * width for _ in range(slack)]


def model_of(sheets: dict[str, list[list[Any]]]) -> Any:
    """``=AI_MODEL(AI_Settings, AI_Framework, AI_Units, AI_Data or AI_Given[, AI_Given])``."""
    folded = {key(n): v for n, v in sheets.items()}
    given = any(key(r[0]) == "input" and key(r[1]) == "given"
                for r in folded["settings"][1:] if len(r) > 1)
    fourth = folded.get("given") if given else folded.get("data")
    extra = None if given or "given" not in folded else as_lite(folded["given"])
    return lite.AI_MODEL(as_lite(folded["settings"]), as_lite(folded["framework"]),
                         as_lite(folded["units"]), as_lite(fourth), extra)


def same(a: Any, b: Any) -> bool:
    """Equal as a cell shows them: numbers within 1e-9 (an int and a float are one kind of
    number to Excel), everything else exactly; nested lists element by element."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    numbers = [isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b)]
    if all(numbers):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
    return type(a) is type(b) and a == b


@pytest.fixture(autouse=True)
def fresh_caches() -> None:
    """No outcome carried from one test to the next (desktop or Lite)."""
    udfs.invalidate()
    lite.CACHE.clear()


def compare_everything(path: Path) -> int:
    """Every Lite function against its desktop twin on ``path``: every unit by id, name_zh and
    name_en, every node, both groupings, both tier forms, the spilled tables, and arguments that
    are errors (unknown names, blanks, TRUE, ranges, error values). Returns the calls compared."""
    model = model_of(sheets_of(path))
    assert isinstance(model, IndexModelHandle)
    compared = 0

    def check(lite_answer: Any, desktop_answer: Any) -> None:
        nonlocal compared
        assert same(lite_answer, desktop_answer), (lite_answer, desktop_answer)
        compared += 1

    with udfs.use_book(path):
        outcome = model.outcome
        bad = ["Pekin", "", None, True, "#N/A", [["a", "b"]], 3.5]
        if outcome.result is None:
            for city in ["北京", "a", *bad]:
                check(lite.AI_INDEX(model, city), udfs.AI_INDEX(city))
            check(lite.AI_RANKING(model), udfs.AI_RANKING())
            return compared
        result = outcome.result
        units = result.model.units
        cities = [*units.index, *units["name_zh"].dropna(), *units["name_en"].dropna()]
        nodes = [*result.model.nodes] if isinstance(result.model.nodes, dict) else \
            [n.id for n in result.model.nodes]
        for city in [*cities, *bad]:
            check(lite.AI_INDEX(model, city), udfs.AI_INDEX(city))
            check(lite.AI_RANK(model, city), udfs.AI_RANK(city))
            check(lite.AI_TIER(model, city), udfs.AI_TIER(city))
            check(lite.AI_TIER(model, city, True), udfs.AI_TIER(city, True))
            for group in ("region", "nowhere", ""):
                check(lite.AI_RANK(model, city, group), udfs.AI_RANK(city, group))
        for node in [*nodes, *bad]:
            check(lite.AI_WEIGHT(model, node), udfs.AI_WEIGHT(node))
            check(lite.AI_SUBINDEX(model, units.index[0], node),
                  udfs.AI_SUBINDEX(units.index[0], node))
        for city in cities[:5]:
            for node in nodes:
                check(lite.AI_SUBINDEX(model, city, node), udfs.AI_SUBINDEX(city, node))
        check(lite.AI_RANKING(model), udfs.AI_RANKING())
        check(lite.AI_SCORES(model), udfs.AI_SCORES())
    return compared


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_lite_functions_answer_as_the_desktop_functions_on_the_shipped_workbooks(
        path: Path) -> None:
    assert len(SHIPPED) == 3
    assert compare_everything(path) > 500


def test_the_2020_index_in_lite(tmp_path: Path) -> None:
    """Independently known values: the 2020 report's printed totals (Beijing 92.93, Shanghai
    87.01, to two decimals; the Given sheet's published column) and Beijing's rank 1."""
    model = model_of(sheets_of(REPO / "workbooks" / "city_ai_index_2020.xlsx"))
    assert lite.AI_INDEX(model, "北京") == pytest.approx(92.93, abs=0.005)
    assert lite.AI_INDEX(model, "Shanghai") == pytest.approx(87.01, abs=0.005)
    assert lite.AI_RANK(model, "beijing") == 1
    ranking = lite.AI_RANKING(model)
    header = ranking[0]
    assert header[:6] == ["rank", "unit", "name_zh", "name_en", "score", "tier"]
    diffs = [row[header.index("diff")] for row in ranking[1:]]
    assert len(diffs) == 30 and max(abs(d) for d in diffs) <= 0.01 + 1e-9  # printed to 0.01


def new_book(tmp_path: Path, filled: bool) -> Path:
    """A workbook made by ``xl-aiindex new`` (Data blank), with Data filled in when ``filled``."""
    tree, units = tmp_path / "tree.csv", tmp_path / "units.csv"
    tree.write_text("id,parent,name_zh,name_en,weight,direction\nhdi,,人类发展,HDI,,\n"
                    "health,hdi,健康,Health,0.5,1\nwealth,hdi,财富,Wealth,0.5,-1\n",
                    encoding="utf-8")
    units.write_text("id,name_zh,name_en,region\na,甲,Alpha,north\nb,乙,Beta,north\n"
                     "c,丙,Gamma,south\n", encoding="utf-8")
    out = tmp_path / "n.xlsx"
    assert run("new", "--framework", tree, "--units", units, "-o", out).exit_code == 0
    if filled:
        book = openpyxl.load_workbook(out)
        data = book["Data"]
        header = [c.value for c in data[1]]
        for r, (h, w) in enumerate([(1, 9), (2, 4), (3, 6)], start=2):
            data.cell(r, header.index("health") + 1, h)
            data.cell(r, header.index("wealth") + 1, w)
        book.save(out)
    return out


@pytest.mark.parametrize("filled", [False, True], ids=["as_built", "data_filled"])
def test_lite_functions_answer_as_the_desktop_functions_on_a_new_workbook(
        tmp_path: Path, filled: bool) -> None:
    path = new_book(tmp_path, filled)
    assert compare_everything(path) > 5
    model = model_of(sheets_of(path))
    if filled:
        # min-max 0–100: health 1,2,3 -> 0,50,100; wealth (lower is better) 9,4,6 -> 0,100,60
        assert lite.AI_INDEX(model, "Beta") == pytest.approx(75.0)
        assert lite.AI_INDEX(model, "c") == pytest.approx(80.0)
        assert lite.AI_RANK(model, "甲") == 3
    else:
        assert lite.AI_INDEX(model, "a").startswith("#AI! 6 problems in the workbook; first: ")


def test_a_problem_reads_as_on_the_desktop(tmp_path: Path) -> None:
    """A weight typed as text: the same count and the same first problem, with its cell."""
    path = Path(shutil.copy(REPO / "workbooks" / "city_ai_index_2020_data.xlsx",
                            tmp_path / "bad.xlsx"))
    book = openpyxl.load_workbook(path)
    book["Framework"]["E3"] = "heavy"
    book.save(path)
    model = model_of(sheets_of(path))
    with udfs.use_book(path):
        desktop = udfs.AI_INDEX("北京")
    assert lite.AI_INDEX(model, "北京") == desktop
    assert "Framework" in desktop and "E3" in desktop


def test_an_error_cell_in_a_range_is_a_problem_as_on_the_desktop(tmp_path: Path) -> None:
    """Lite passes an error cell as its text (err_to_str): the reader names it, as the
    desktop reader names the cached error of a formula."""
    sheets = sheets_of(REPO / "workbooks" / "city_ai_index_2020_data.xlsx")
    sheets["Data"][3][2] = "#DIV/0!"
    text = lite.AI_INDEX(model_of(sheets), "北京")
    assert text.startswith("#AI! 1 problem in the workbook: Sheet 'Data', cell C4") and \
        "#DIV/0!" in text, text


def test_the_engine_runs_once_per_distinct_input(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = pipeline.build_index
    monkeypatch.setattr(pipeline, "build_index", lambda m: calls.append(1) or real(m))
    sheets = sheets_of(REPO / "workbooks" / "city_ai_index_2020.xlsx")
    first = model_of(sheets)
    again = model_of(sheets)        # new lists, same content (a full recalculation)
    for city in ("北京", "上海", "深圳"):
        lite.AI_INDEX(again, city)
    assert len(calls) == 1 and again.outcome is first.outcome
    original = sheets["Given"][2][3]
    sheets["Given"][2][3] = 1.0     # one value changed: one more build
    changed = model_of(sheets)
    assert len(calls) == 2 and changed.fingerprint != first.fingerprint
    sheets["Given"][2][3] = original
    assert lite.AI_INDEX(model_of(sheets), "北京") == pytest.approx(92.9285)
    assert len(calls) == 2          # back to the first inputs: still cached


def test_a_function_given_no_handle_says_what_it_needs() -> None:
    text = lite.AI_INDEX("", "北京")
    assert text == ("#AI! model must be the cell holding =AI_MODEL(AI_Settings, AI_Framework, "
                    "AI_Units, AI_Data or AI_Given), not a blank cell")
    assert lite.AI_RANKING([[42.0]]).endswith("not 42.0")


def test_the_registration_is_what_xlwings_lite_needs() -> None:
    """What Lite reads from the decorators: AI_MODEL takes 2-D ranges and answers an object
    handle, the others take that handle; the scripts are scripts; nothing is volatile."""
    meta = lite.AI_MODEL.__xl_aiindex_lite__
    assert meta["kind"] == "func" and meta["ret"]["convert"] is object
    assert {a: (o["ndim"], o["err_to_str"]) for a, o in meta["args"].items()} == {
        a: (2, True) for a in ("settings", "framework", "units", "data_or_given", "given")}
    for f in (lite.AI_INDEX, lite.AI_SUBINDEX, lite.AI_RANK, lite.AI_TIER, lite.AI_WEIGHT,
              lite.AI_RANKING, lite.AI_SCORES):
        assert f.__xl_aiindex_lite__["args"]["model"]["convert"] is object
        assert f.__xl_aiindex_lite__["options"] == {}
        assert not hasattr(f, "__xlfunc__")    # never mistaken for a desktop UDF
        assert f.__annotations__ == {}         # Lite would take an annotation as a converter
    for s in (scripts.rebuild_results, scripts.validate_inputs):
        assert s.__xl_aiindex_lite__["kind"] == "script"


def test_importing_lite_needs_only_numpy_and_pandas() -> None:
    code = ("import sys, xl_aiindex.lite, xl_aiindex.lite.scripts\n"
            f"bad = sorted({{m.split('.')[0] for m in sys.modules}} & set({FORBIDDEN!r}))\n"
            "print(','.join(bad) or 'none')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, check=True).stdout.strip()
    assert out == "none"


def test_xlwings_server_needs_a_licence_key_in_cpython() -> None:
    """Why the CPython decorators are stand-ins (runtime.py): xlwings' own Lite entry points
    (xlwings.server: func, script, custom_functions_call) are PRO code that will not import
    without a licence key."""
    pytest.importorskip("xlwings")
    code = ("import os\nos.environ.pop('XLWINGS_LICENSE_KEY', None)\n"
            "try:\n    import xlwings.server\nexcept Exception as e:\n"
            "    print(type(e).__name__, e)\nelse:\n    print('imported')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, check=True).stdout.strip()
    assert out == "LicenseError Couldn't find an xlwings license key."


# ---- the scripts, on a book with xlwings Lite's API ----

class FakeRange:
    """``sheet.range(…)`` of xlwings Lite over a dict of cells (rows and columns from 1)."""

    def __init__(self, sheet: FakeSheet, first: tuple[int, int], last: tuple[int, int]):
        self.sheet, self.first, self.last = sheet, first, last

    @property
    def last_cell(self) -> Any:
        return type("Cell", (), {"row": self.last[0], "column": self.last[1]})()

    def options(self, ndim: int | None = None, err_to_str: bool = False) -> FakeRange:
        assert ndim == 2 and err_to_str   # error cells arrive as their text, never as blanks
        return self

    @property
    def value(self) -> list[list[Any]]:
        (r1, c1), (r2, c2) = self.first, self.last
        return [[self.sheet.cells.get((r, c)) for c in range(c1, c2 + 1)]
                for r in range(r1, r2 + 1)]

    @value.setter
    def value(self, rows: Any) -> None:
        rows = rows if isinstance(rows, list) else [[rows]]
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is None:
                    self.sheet.cells.pop((self.first[0] + i, self.first[1] + j), None)
                else:
                    self.sheet.cells[(self.first[0] + i, self.first[1] + j)] = v


class FakeSheet:
    def __init__(self, name: str, rows: list[list[Any]] | None = None):
        self.name = name
        self.cells = {(r + 1, c + 1): v for r, row in enumerate(rows or [])
                      for c, v in enumerate(row) if v is not None and v != ""}

    @property
    def used_range(self) -> FakeRange:
        if not self.cells:
            return FakeRange(self, (1, 1), (1, 1))
        return FakeRange(self, (min(r for r, _ in self.cells), min(c for _, c in self.cells)),
                         (max(r for r, _ in self.cells), max(c for _, c in self.cells)))

    def range(self, a: Any, b: Any = None) -> FakeRange:
        if a == "A1":
            a = (1, 1)
        return FakeRange(self, a, b or a)

    def clear(self) -> None:
        self.cells.clear()

    def table(self) -> list[list[Any]]:
        return self.used_range.value if self.cells else []


class FakeSheets(list):  # type: ignore[type-arg]
    def add(self, name: str, after: FakeSheet | None = None) -> FakeSheet:
        sheet = FakeSheet(name)
        self.insert(self.index(after) + 1 if after is not None else len(self), sheet)
        return sheet

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, str):
            return next(s for s in self if s.name == item)
        return super().__getitem__(item)


class FakeLiteBook:
    """The part of xlwings Lite's ``xw.Book`` the scripts use, over in-memory sheets."""

    def __init__(self, sheets: dict[str, list[list[Any]]], name: str = "book.xlsx"):
        self.name = name
        self.sheets = FakeSheets(FakeSheet(n, rows) for n, rows in sheets.items())
        self.alerts: list[str] = []
        self.app = type("App", (), {"alert": lambda _, prompt, title=None:
                                    self.alerts.append(prompt)})()


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_rebuild_results_writes_what_recalc_wrote(path: Path) -> None:
    """The shipped workbooks' Scores, Ranking and Tiers were written by ``recalc``: the Lite
    script, on a book with those sheets blanked, writes the same values."""
    shipped = sheets_of(path)
    book = FakeLiteBook({n: ([] if n in ("Scores", "Ranking", "Tiers") else rows)
                         for n, rows in shipped.items()})
    report = scripts.run_rebuild(book)
    assert report.written == ("Scores", "Ranking", "Tiers", "Problems")
    for name in ("Scores", "Ranking", "Tiers"):
        assert same(book.sheets[name].table(), [[None if v == "" else v for v in row]
                                                for row in shipped[name]]), name
    assert book.sheets["Problems"].table() == [["sheet", "cell", "unit", "node", "problem"]]
    log = book.sheets["Log"].table()
    assert len(log) == len(shipped["Log"]) + 1
    header = [key(v) for v in log[0]]
    assert log[-1][header.index("command")] == "lite rebuild_results"
    assert log[-1][header.index("units")] == 30


def test_validate_inputs_lists_the_problems_and_rebuild_keeps_the_results(
        tmp_path: Path) -> None:
    sheets = sheets_of(REPO / "workbooks" / "city_ai_index_2020_data.xlsx")
    sheets["Framework"][2][4] = "heavy"
    book = FakeLiteBook(sheets)
    before = book.sheets["Ranking"].table()
    report = scripts.run_validate(book)
    problems = book.sheets["Problems"].table()
    assert len(problems) == len(report.problems) + 1 >= 2
    assert problems[1][:2] == ["Framework", "E3"]
    assert book.alerts[-1].endswith("in the input sheets; see the Problems sheet")
    scripts.run_rebuild(book)
    assert book.sheets["Ranking"].table() == before


def test_a_sheet_of_the_users_is_never_replaced() -> None:
    sheets = sheets_of(REPO / "workbooks" / "city_ai_index_2020.xlsx")
    sheets["Tiers"] = [["my notes"], ["keep me"]]
    book = FakeLiteBook(sheets)
    scores = book.sheets["Scores"].table()
    report = scripts.run_rebuild(book)
    assert book.sheets["Tiers"].table() == [["my notes"], ["keep me"]]
    assert book.sheets["Scores"].table() == scores
    assert report.written == ("Problems",)
    assert book.sheets["Problems"].table()[1][:2] == ["Tiers", "A1"]
    assert book.alerts[-1].startswith("nothing was written: Sheet 'Tiers'")


def test_the_add_in_main_py_exposes_the_functions_and_scripts() -> None:
    """The main.py docs/lite.md tells the user to paste runs and answers."""
    main = REPO / "xl_aiindex" / "lite" / "addin" / "main.py"
    namespace: dict[str, Any] = {"__name__": "main"}
    exec(compile(main.read_text(encoding="utf-8"), str(main), "exec"), namespace)
    for name in ("AI_MODEL", "AI_INDEX", "AI_SUBINDEX", "AI_RANK", "AI_TIER", "AI_WEIGHT",
                 "AI_RANKING", "AI_SCORES", "rebuild_results", "validate_inputs"):
        assert callable(namespace[name]), name
    model = namespace["AI_MODEL"](*[as_lite(v) for k, v in sheets_of(
        REPO / "workbooks" / "city_ai_index_2020.xlsx").items()
        if k in ("Settings", "Framework", "Units", "Given")])
    assert namespace["AI_INDEX"](model, "北京") == pytest.approx(92.9285)
    requirements = (main.parent / "requirements.txt").read_text(encoding="utf-8")
    lines = [ln.strip() for ln in requirements.splitlines() if ln.strip() and ln[0] != "#"]
    assert lines[-1].endswith("/xl_aiindex_lite-0.1.0-py3-none-any.whl")


# ---- xl-aiindex excel BOOK --lite ----

def named_range(path: Path, reference: str) -> list[list[Any]]:
    """The values of ``'Sheet'!$A$1:$X$n`` in ``path`` as xlwings Lite passes that range:
    the whole rectangle, blanks as ``""``."""
    sheet, cells = reference.rsplit("!", 1)
    sheet = sheet.strip("'").replace("''", "'")
    last = cells.split(":")[1].replace("$", "")
    letters = "".join(ch for ch in last if ch.isalpha())
    rows = int(last[len(letters):])
    cols = 0
    for ch in letters:
        cols = cols * 26 + ord(ch) - 64
    grid = sheets_of(path)[sheet]
    assert len(grid) <= rows and max(len(r) for r in grid) <= cols   # the name covers it all
    return [[("" if v is None else v) for v in (r + [None] * (cols - len(r)))]
            for r in grid + [[]] * (rows - len(grid))]


@pytest.mark.parametrize("name", ["city_ai_index_2020.xlsx", "city_ai_index_2020_data.xlsx"])
def test_excel_lite_adds_the_names_and_the_examples(tmp_path: Path, name: str) -> None:
    book = Path(shutil.copy(REPO / "workbooks" / name, tmp_path / name))
    result = run("excel", book, "--lite")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Wrote {book}: the defined names AI_Settings, AI_Framework, "
                                    "AI_Units, AI_Data, AI_Given and the sheet Lite Examples")
    # a recalc afterwards (values mode: it removes its own xlai_ names) keeps the Lite names
    assert run("recalc", book).exit_code == 0
    wb = openpyxl.load_workbook(book)
    names = {n: d.attr_text for n, d in wb.defined_names.items()}
    assert sorted(names) == ["AI_Data", "AI_Framework", "AI_Given", "AI_Settings", "AI_Units"]
    rows = [list(r) for r in wb["Lite Examples"].iter_rows(values_only=True)]
    assert rows[0] == ["example", "formula", "result", "expected"]
    model_call = rows[1][2]
    given = name == "city_ai_index_2020.xlsx"
    assert model_call == ("=AI_MODEL(AI_Settings,AI_Framework,AI_Units,AI_Given)" if given else
                          "=AI_MODEL(AI_Settings,AI_Framework,AI_Units,AI_Data,AI_Given)")
    # what AI_MODEL gets from those names, and what each example then answers
    args = [named_range(book, names[a.strip()]) for a in model_call[10:-1].split(",")]
    model = lite.AI_MODEL(*args)
    functions = {"AI_INDEX": lite.AI_INDEX, "AI_SUBINDEX": lite.AI_SUBINDEX,
                 "AI_RANK": lite.AI_RANK, "AI_TIER": lite.AI_TIER, "AI_WEIGHT": lite.AI_WEIGHT}
    checked = 0
    for what, text, formula, expected in rows[2:]:
        if formula is None:
            continue
        assert text == formula
        fname, inner = formula[1:].split("(", 1)
        call_args = [a.strip('"') for a in inner[:-1].split(",")[1:]]
        call_args = [True if a == "TRUE" else a for a in call_args]
        assert same(functions[fname](model, *call_args), expected), what
        checked += 1
    assert checked >= 8
    assert rows[2][3] == pytest.approx(92.9285 if given else 97.60591362610151)
    assert any(r[1] == "=AI_RANKING($C$2)" for r in rows)


def test_excel_lite_refuses_a_name_of_the_users(tmp_path: Path) -> None:
    from openpyxl.workbook.defined_name import DefinedName

    book = tmp_path / "mine.xlsx"
    wb = openpyxl.load_workbook(REPO / "workbooks" / "city_ai_index_2020.xlsx")
    wb.defined_names["AI_targets"] = DefinedName("AI_targets", attr_text="Given!$B$2:$B$31")
    wb.save(book)
    before = book.read_bytes()
    result = run("excel", book, "--lite")
    assert result.exit_code == 1
    assert "the workbook has its own defined name AI_targets (=Given!$B$2:$B$31)" in result.output
    assert book.read_bytes() == before
    assert run("excel", book, "--lite", "--force").exit_code == 0
    assert "AI_targets" not in openpyxl.load_workbook(book).defined_names


def test_excel_lite_refuses_a_sheet_of_the_users(tmp_path: Path) -> None:
    book = tmp_path / "mine.xlsx"
    wb = openpyxl.load_workbook(REPO / "workbooks" / "city_ai_index_2020.xlsx")
    wb.create_sheet("Lite Examples")["A1"] = "my own notes"
    wb.save(book)
    before = book.read_bytes()
    result = run("excel", book, "--lite")
    assert result.exit_code == 1 and "Lite Examples" in result.output
    assert book.read_bytes() == before


def test_excel_lite_on_a_new_workbook(tmp_path: Path) -> None:
    path = new_book(tmp_path, filled=False)
    result = run("excel", path, "--lite")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].startswith("Note: the inputs have 6 problems (first: ")
    rows = [list(r) for r in openpyxl.load_workbook(path)["Lite Examples"].iter_rows(
        values_only=True)]
    assert rows[1][2] == "=AI_MODEL(AI_Settings,AI_Framework,AI_Units,AI_Data)"
    assert rows[2][3].startswith("#AI! 6 problems in the workbook; first: ")
