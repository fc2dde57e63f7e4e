"""The macro-enabled workbook: the reference workbook's sheets + xlwings settings + UDF examples.

:func:`build_xlsm` writes, with xlsxwriter, a copy of an .xlsx workbook (every sheet: values,
formulas with their cached values, cell formats, column widths, row heights, frozen panes,
header comments, drop-down and number validations, simple conditional formats, links, merged
cells: :mod:`.xlsm_copy`) plus:

* a VBA project written here (:mod:`.vba_project`, source only: Excel compiles it on open)
  holding xlwings' standalone modules and the wrapper of every worksheet function and macro of
  ``udfs`` (:mod:`.excel_vba`), so the functions and buttons work without the xlwings add-in and
  without *Import Functions* (the buttons on the Mac too, through ``RunPython``), and a
  ``Workbook_Open`` that registers the functions' *Insert Function* help and recalculates once;
* a sheet ``xlwings.conf`` whose first rows (xlwings reads column A from A1 down to the first
  blank cell) set ``UDF Modules`` = ``udfs``; the interpreter keys follow below that block with
  a note, inactive, unless interpreters are given (see :func:`conf_rows` for why);
* a sheet ``Examples`` that calls every UDF (``=AI_INDEX("北京")``, ``=AI_RANK("Shanghai")``…),
  with a self-test column whose cells all read TRUE in Excel once the UDFs are imported (the
  expected values are computed here, by the engine, from the same inputs), the spilled
  ``=AI_RANKING()`` and ``=AI_SCORES()`` below, and two buttons bound to the macros
  ``rebuild_results`` and ``validate_inputs`` (VBA ``Sub`` procedures).

Every formula that calls one of the ``udfs`` functions is stored as a dynamic-array formula
(``cm="1"`` and ``xl/metadata.xml``, as Excel 365 saves them), so Excel shows it as written,
never with an implicit-intersection ``@``. The very hidden ``_xl_aiindex`` sheet stays very
hidden.

The file is written as every workbook is (:mod:`~xl_aiindex.workbook.writer`: guarded,
locked, atomic, one Log row; a user's own ``Examples`` sheet is never replaced) and is the same
bytes for the same inputs (creation date taken from the source). The user's VBA modules and
code are kept beside ours (:mod:`.xlsm_keep`). Not copied: charts, pictures, text boxes and
other drawings, Excel tables (their cells are copied), forms, colour scales and data bars; a
rebuild over its own source that would lose one of these refuses, naming it
(:func:`.xlsm_keep.plan_rebuild`). Numbers are stored with 16 significant digits.

>>> build_xlsm("workbooks/city_ai_index_2020.xlsx", "workbooks/city_ai_index_2020.xlsm")  # doctest: +SKIP
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..contract import EXAMPLES, FORMULA_ERRORS, MAX_FORMULA, key
from ..errors import Problem, ProblemsFound, UnreadableWorkbook, XlAiIndexError
from ..fit import fit_weights
from ..i18n import _
from ..model import IndexModel, IndexResult
from ..settings import unit_word
from .excel_vba import sheet_code_name, vba_modules
from .files import atomic_write, guard_destination, workbook_lock
from .io import Loaded, compute, load_workbook
from .read import address, column_letter
from .sheetspec import HEADER
from .source import check_package
from .vba_project import project_bin
from .writer import check_replaced, finish_package, skip_optional_sheets
from .xlsm_copy import Formats, copy_sheet, write_formula
from .xlsm_copy import udf_names as udf_names  # the functions count the excel command reports
from .xlsm_keep import RebuildPlan, plan_rebuild

CONF = "xlwings.conf"
UDF_MODULE = "udfs"
#: Units the examples prefer when the workbook has them (the 2020 reference workbook does).
PREFERRED_UNITS = ("beijing", "shanghai", "zhengzhou")
PREFERRED_NODE = "rnd"
#: Macros the buttons run (their names in :mod:`udfs.macros`).
MACROS = (("rebuild_results", "Rebuild results 重算结果"), ("validate_inputs", "Validate inputs 检查输入"))


def conf_rows(interpreter_win: str | None = None,
              interpreter_mac: str | None = None) -> list[tuple[str, Any, str]]:
    """The rows of the ``xlwings.conf`` sheet: ``(key, value, note)``; a blank key ends the block.

    xlwings' VBA reads column A from A1 down to the first blank cell, and a key present there
    wins over the add-in's settings even when its value is blank (a blank ``Interpreter_Win`` then
    means ``pythonw`` on PATH, not the interpreter ``xlwings addin install`` recorded). So the
    interpreter keys go into the active block only when given; otherwise they follow the block,
    blank and inactive, with a note on how to use them.
    """
    where = ("full path of the Python that has xl-aiindex installed, e.g. the output of "
             "python -c \"import sys; print(sys.executable)\"")
    active: list[tuple[str, Any, str]] = [
        ("UDF Modules", UDF_MODULE, "the Python module with the AI_* functions and the macros "
                                    "(installed with xl-aiindex: pip install -e . in a clone of its repository; it "
                                    "is not on the package index)"),
    ]
    template: list[tuple[str, Any, str]] = []
    for name, value in (("Interpreter_Win", interpreter_win), ("Interpreter_Mac", interpreter_mac)):
        row = (name, value or None, f"{where} (Windows: python.exe or pythonw.exe)"
               if name.endswith("Win") else where)
        (active if value else template).append(row)
    template += [
        ("PYTHONPATH", None, "extra folders to import from (not needed after pip install)"),
        ("Conda Path", None, "only for conda environments (Windows)"),
        ("Conda Env", None, "only for conda environments (Windows)"),
        ("Debug UDFs", False, "TRUE to run the UDF server in a console you start yourself"),
        ("Use UDF Server", False, ""),
        ("Show Console", False, ""),
    ]
    notes = [
        ("", None, ""),
        ("Inactive until moved up:", None,
         "xlwings reads only the rows above the first blank cell in column A. To set one of the "
         "keys below for this workbook, fill in its value and move its row up into that block. "
         "A key left blank inside the block overrides the xlwings add-in's setting (blank = "
         "python on PATH), so move only the keys you fill in."),
        ("", None, ""),
    ]
    return active + notes + template


@dataclass(frozen=True)
class _Example:
    shows: str          # what the row shows, for people
    formula: str        # the live formula, with its =
    value: Any          # the engine's answer, cached in the file
    test: str           # a formula of the result cell {c}, TRUE when right
    ok: bool = True     # the test's value now (False while the inputs do not compute)


def _q(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def _num(v: float) -> str:
    """A number embedded in a formula, to 10 significant digits: nothing the build writes may
    depend on the last bits of a float (another CPU's BLAS kernel changes them), and the tests
    that compare with it allow 1E-6."""
    return format(float(v), ".10g")


def _pick_units(result: IndexResult) -> tuple[str, str, str]:
    ranked = [str(u) for u in result.rank.sort_values(kind="stable").dropna().index]
    units = [str(u) for u in result.model.units.index]
    ranked = ranked or units
    ids = {u.lower(): u for u in units}
    last_tier = int(result.tier.max()) if len(result.tier) else 0
    in_last = [u for u in ranked if int(result.tier.get(u, 0)) == last_tier] or ranked
    picks = [ids.get(PREFERRED_UNITS[0]), ids.get(PREFERRED_UNITS[1]), ids.get(PREFERRED_UNITS[2])]
    fallback = [ranked[0], ranked[1 if len(ranked) > 1 else 0], in_last[0]]
    return tuple(p or f for p, f in zip(picks, fallback, strict=True))  # type: ignore[return-value]


def _name(result: IndexResult, unit: str, col: str) -> str:
    v = str(result.model.units.at[unit, col] or "").strip()
    return v or unit


def examples(result: IndexResult, fit_ranges: tuple[str, str, float] | None) -> list[_Example]:
    """The example rows for ``result``: every UDF, each with a TRUE-when-right test."""
    model = result.model
    root = result.root
    u1, u2, u3 = _pick_units(result)
    children = [n.id for n in model.nodes if n.parent == root]
    node = PREFERRED_NODE if PREFERRED_NODE in {n.id for n in model.nodes} else (children or [root])[0]
    node_zh = model.node(node).name_zh or node
    zh1, en2, zh3 = _name(result, u1, "name_zh"), _name(result, u2, "name_en"), _name(result, u3, "name_zh")
    total1 = float(result.total[u1])
    sub1 = float(result.scores.at[u1, node])
    used = result.weights_used
    weight = float(used.loc[used["child"] == node, "weight_in_total"].iloc[0]) if node != root else 1.0
    tier3 = int(result.tier[u3])
    rank2 = int(result.rank[u2])
    label3 = model.settings.tiers.label(tier3)
    from .results import ranking_table, scores_table

    ranking, scores = ranking_table(result), scores_table(result)
    rows = [
        _Example("total index, by Chinese name", f"=AI_INDEX({_q(zh1)})", total1,
                 f"=ABS({{c}}-{_num(total1)})<1E-6"),
        _Example("names match loosely: case and spaces are ignored",
                 f"=AI_INDEX({_q(' ' + _name(result, u1, 'name_en').upper() + ' ')})", total1,
                 f"=ABS({{c}}-{_num(total1)})<1E-6"),
        _Example(f"score of node {node}", f"=AI_SUBINDEX({_q(zh1)},{_q(node)})", sub1,
                 f"=ABS({{c}}-{_num(sub1)})<1E-6"),
        _Example(f"a node by its Chinese name, a {unit_word(model.settings)} by its id",
                 f"=AI_SUBINDEX({_q(u1)},{_q(node_zh)})", sub1, f"=ABS({{c}}-{_num(sub1)})<1E-6"),
        _Example("rank (1 = best)", f"=AI_RANK({_q(en2)})", rank2, f"={{c}}={rank2}"),
        _Example("tier (1 = best)", f"=AI_TIER({_q(zh3)})", tier3, f"={{c}}={tier3}"),
        _Example("tier label", f"=AI_TIER({_q(zh3)},TRUE)", label3, f"={{c}}={_q(label3)}"),
        _Example(f"weight of {node} in the total", f"=AI_WEIGHT({_q(node)})", weight,
                 f"=ABS({{c}}-{_num(weight)})<1E-6"),
        _Example("the root's weight", f"=AI_WEIGHT({_q(root)})", 1.0, "={c}=1"),
        _Example("rows of the spilled ranking (header + units)", "=ROWS(AI_RANKING())",
                 len(ranking) + 1, f"={{c}}={len(ranking) + 1}"),
        _Example("first-ranked unit, from the ranking table", "=INDEX(AI_RANKING(),2,2)",
                 str(ranking.iloc[0]["unit"]), f"={{c}}={_q(str(ranking.iloc[0]['unit']))}"),
        _Example("columns of the spilled scores table", "=COLUMNS(AI_SCORES())",
                 scores.shape[1], f"={{c}}={scores.shape[1]}"),
    ]
    if fit_ranges is not None:
        sub_range, tot_range, w1 = fit_ranges
        rows.append(_Example(f"weight of {children[0]} fitted from the sub-scores",
                             f"=INDEX(AI_FIT_WEIGHTS({sub_range},{tot_range}),2,2)", w1,
                             f"=ABS({{c}}-{_num(w1)})<1E-6"))
    from ..lookup import NameIndex

    why = NameIndex.of(model, "unit").unknown_text("Pekin")
    # 'unknown city ' (未知的城市 in Chinese), in the unit word (Settings unit_label)
    said = why[:why.index("Pekin")].rstrip('"“')
    rows += [
        _Example(f"an unknown {unit_word(model.settings)} is an error (#N/A), as a lookup's",
                 '=AI_INDEX("Pekin")', "#N/A", "=ISNA({c})"),
        _Example("AI_WHY(cell) tells why a cell shows an error", "=AI_WHY({prev})", why,
                 f'=LEFT({{c}},{len(said)})={_q(said)}'),
        _Example("IFERROR catches the error", '=IFERROR(AI_INDEX("Pekin"),"not found")',
                 "not found", '={c}="not found"'),
    ]
    below = [n.id for n in model.nodes if n.id not in result.stages["scores"].columns
             and (model.given is None or n.id not in model.given.columns)]
    if model.settings.input == "given" and below:
        rows.append(_Example("with input = given, nodes below Given's columns have no score",
                             f"=AI_SUBINDEX({_q(zh1)},{_q(below[0])})", "#VALUE!",
                             '=ISNUMBER(SEARCH("input = given",AI_WHY({c})))'))
    return rows


def pending_examples(model: IndexModel) -> list[_Example]:
    """Example rows for a workbook whose inputs do not compute yet (e.g. just made by ``new``,
    Data still blank): the same functions on its first unit and node; their self-tests read
    TRUE once the inputs compute (until then the function cells show #VALUE!)."""
    from ..lookup import NameIndex

    root = next(n.id for n in model.nodes if n.parent is None)
    children = [n.id for n in model.nodes if n.parent == root]
    node = (children or [root])[0]
    unit = str(model.units.index[0])
    later = "#VALUE!"
    rows = [
        _Example("total index, by unit id", f"=AI_INDEX({_q(unit)})", later, "=ISNUMBER({c})",
                 False),
        _Example(f"score of node {node}", f"=AI_SUBINDEX({_q(unit)},{_q(node)})", later,
                 "=ISNUMBER({c})", False),
        _Example("rank (1 = best)", f"=AI_RANK({_q(unit)})", later, "=ISNUMBER({c})", False),
        _Example("tier (1 = best)", f"=AI_TIER({_q(unit)})", later, "=ISNUMBER({c})", False),
        _Example(f"weight of {node} in the total", f"=AI_WEIGHT({_q(node)})", later,
                 "=ISNUMBER({c})", False),
        _Example("rows of the spilled ranking (header + units)", "=ROWS(AI_RANKING())", later,
                 "=ISNUMBER({c})", False),
        _Example("columns of the spilled scores table", "=COLUMNS(AI_SCORES())", later,
                 "=ISNUMBER({c})", False),
        _Example("an error's reason, e.g. the inputs' first problem", "=AI_WHY({prev})",
                 "(the reason)", "=ISTEXT({c})"),
    ]
    why = NameIndex.of(model, "unit").unknown_text("Pekin")
    return rows + [
        _Example(f"an unknown {unit_word(model.settings)} is an error (#N/A), as a lookup's",
                 '=AI_INDEX("Pekin")', "#N/A", "=ISERROR({c})"),
        _Example("AI_WHY(cell) tells why a cell shows an error", "=AI_WHY({prev})", why,
                 "=ISTEXT({c})"),
        _Example("IFERROR catches the error", '=IFERROR(AI_INDEX("Pekin"),"not found")',
                 "not found", '={c}="not found"'),
    ]


def _fit_ranges(src: Any, result: IndexResult) -> tuple[str, str, float] | None:
    """Arguments for the AI_FIT_WEIGHTS example and the first fitted weight: Given's columns of
    the root's children and ``published``, else the same columns of Scores and the root's, else
    the computed scores as array constants (None when they would not fit in a formula)."""
    model = result.model
    children = [n.id for n in model.nodes if n.parent == result.root]
    if len(children) < 2:
        return None
    candidates = [("given", "published"), ("scores", result.root)]
    names = {key(n): n for n in src.sheetnames}
    for sheet_key, total_col in candidates:
        if sheet_key not in names:
            continue
        ws = src[names[sheet_key]]
        header = [key(c.value) for c in next(ws.iter_rows(min_row=1, max_row=1))]
        cols = [header.index(c.lower()) if c.lower() in header else -1 for c in children]
        if -1 in cols or total_col.lower() not in header or cols != list(range(cols[0], cols[0] + len(cols))):
            continue
        last = ws.max_row
        t = header.index(total_col.lower())
        sheet = "'" + names[sheet_key].replace("'", "''") + "'"
        sub = f"{sheet}!${column_letter(cols[0])}$1:${column_letter(cols[-1])}${last}"
        tot = f"{sheet}!${column_letter(t)}$1:${column_letter(t)}${last}"
        if sheet_key == "given":
            assert model.given is not None
            if "published" not in model.given.columns:
                continue
            fit = fit_weights(model.given[children], model.given["published"])
        else:
            fit = fit_weights(result.scores[children], result.total)
        return sub, tot, float(fit.weights.iloc[0])
    # no sheet holds them side by side: the computed scores as array constants
    both = result.scores[children].join(result.total.rename("__total__")).dropna()
    sub = "{" + ";".join(",".join(_num(v) for v in row)
                         for row in both[children].to_numpy()) + "}"
    tot = "{" + ";".join(_num(v) for v in both["__total__"]) + "}"
    if len(both) < len(children) or len(sub) + len(tot) > MAX_FORMULA - 100:
        return None
    fit = fit_weights(both[children], both["__total__"])
    return sub, tot, float(fit.weights.iloc[0])


# ---- the two added sheets ----

def _write_examples(book: Any, rows: list[_Example], result: IndexResult | None) -> None:
    ws = book.add_worksheet(EXAMPLES)
    head = book.add_format({"bold": True, "font_color": "#" + (HEADER.font_color or "FFFFFF"),
                            "bg_color": "#" + (HEADER.fill or "1F4E78"), "text_wrap": True,
                            "align": "center", "bottom": 1})
    mono = book.add_format({"font_name": "Consolas"})
    number = book.add_format({"num_format": "0.0000"})
    ok = book.add_format({"bold": True, "align": "center"})
    note = book.add_format({"italic": True, "font_color": "#595959"})  # one line, not wrapped
    header = ["what it shows", "formula", "result", "self-test"]
    for c, h in enumerate(header):
        ws.write_string(0, c, h, head)
    for i, ex in enumerate(rows, start=1):
        cell = address(i, 2)
        formula = ex.formula.replace("{prev}", address(i - 1, 2))
        ws.write_string(i, 0, ex.shows)
        ws.write_string(i, 1, formula, mono)
        write_formula(ws, i, 2, formula, number if isinstance(ex.value, float) else None, ex.value)
        write_formula(ws, i, 3, ex.test.replace("{c}", cell), ok, ex.ok)
    last = len(rows)
    ws.write_string(last + 1, 0, "all self-tests", head)
    ws.write_formula(last + 1, 3, f"=AND({address(1, 3)}:{address(last, 3)})", ok,
                     all(ex.ok for ex in rows))
    ws.set_column(0, 0, 46)
    ws.set_column(1, 1, 52)
    ws.set_column(2, 2, 40)
    ws.set_column(3, 3, 10)
    ws.set_column(5, 5, 60)
    ws.freeze_panes(1, 0)
    for n, (macro, caption) in enumerate(MACROS):
        ws.insert_button(1 + 3 * n, 5, {"macro": macro, "caption": caption, "width": 200,
                                        "height": 36})
    # the note: one short line per row below the buttons, in the rows of the table (no tall
    # row splitting the table, no merged cells where AI_RANKING spills further down)
    for n, line in enumerate(_note_lines()):
        ws.write_string(7 + n, 5, line, note)
    start = last + 4
    ws.write_string(start, 0, "=AI_RANKING() spills the Ranking table here:", head)
    table = _rows_of(result, "ranking") if result is not None else [["#VALUE!"]]
    ws.write_dynamic_array_formula(start + 1, 0, start + 1, 0, "=AI_RANKING()", None, table[0][0])
    start2 = start + max(len(table), 2) + 3
    ws.write_string(start2, 0, "=AI_SCORES() spills the Scores table here:", head)
    scores = _rows_of(result, "scores") if result is not None else [["#VALUE!"]]
    ws.write_dynamic_array_formula(start2 + 1, 0, start2 + 1, 0, "=AI_SCORES()", None, scores[0][0])


def _note_lines() -> list[str]:
    """The Examples sheet's note beside the table (at most 6 lines: the table is longer)."""
    return [
        _("The buttons run the Python macros rebuild_results and validate_inputs (module udfs);"),
        _("they are also in the list of Alt+F8 (View > Macros)."),
        _("The workbook carries its VBA (xlwings standalone): enable macros; no add-in, no "
          "Import Functions."),
        _("Every cell of column D should read TRUE. #NAME? there: enable macros, then press "
          "Ctrl+Alt+F9."),
        _("FALSE or another error: see docs/excel.md, Troubleshooting."),
        "启用宏后按钮和函数即可使用，无需 xlwings 加载项。",
    ]


def _rows_of(result: IndexResult, which: str) -> list[list[Any]]:
    from .results import ranking_table, scores_table

    table = ranking_table(result) if which == "ranking" else scores_table(result)
    return [list(table.columns)] + table.values.tolist()


def _write_conf(book: Any, rows: Sequence[tuple[str, Any, str]]) -> None:
    ws = book.add_worksheet(CONF)
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"italic": True, "font_color": "#595959", "text_wrap": True,
                            "valign": "top"})
    for r, (k, value, note) in enumerate(rows):
        if k:
            ws.write_string(r, 0, k, bold if value else None)
        if isinstance(value, bool):
            ws.write_boolean(r, 1, value)
        elif value is not None:
            ws.write_string(r, 1, str(value))
        if note:
            ws.write_string(r, 2, note, wrap)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 100)


# ---- the build ----

_DYNAMIC_CELL = re.compile(rb'(<c r="[A-Z]+\d+"(?: s="\d+")? cm="1")(?: t="str")?'
                           rb'(><f t="array" ref="[A-Z]+\d+">[^<]*</f><v>)([^<]*)(</v></c>)')
_ERRORS = {e.encode() for e in FORMULA_ERRORS}


def _cached_type(m: re.Match[bytes]) -> bytes:
    head, mid, value, tail = m.groups()
    if value in _ERRORS:
        return head + b' t="e"' + mid + value + tail
    if value in (b"True", b"False"):
        return head + b' t="b"' + mid + (b"1" if value == b"True" else b"0") + tail
    return m.group(0)


def error_values_as_errors(package: bytes) -> bytes:
    """The package with the cached error and TRUE/FALSE values of one-cell dynamic-array formulas
    stored as Excel saves them (``t="e"``, ``t="b"``): xlsxwriter writes them as text there."""
    src = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = _DYNAMIC_CELL.sub(_cached_type, data)
            dst.writestr(info, data)
    return out.getvalue()


@dataclass(frozen=True)
class ExcelBuild:
    """What :func:`build_excel` wrote: the path, and the inputs' problems when they do not
    compute yet (then the Examples sheet shows results only once they are fixed)."""

    path: Path
    problems: tuple[Problem, ...] = ()


def build_xlsm(src_xlsx: str | os.PathLike[str], dst_xlsm: str | os.PathLike[str], *,
               interpreter_win: str | None = None, interpreter_mac: str | None = None,
               log: bool = False) -> Path:
    """Write the macro-enabled variant of the workbook ``src_xlsx`` to ``dst_xlsm``.

    ``src_xlsx`` must compute without problems (its results give the examples' expected values);
    raises :class:`~xl_aiindex.errors.ProblemsFound` otherwise. ``interpreter_win`` /
    ``interpreter_mac``: put these interpreters into the active ``xlwings.conf`` block (default:
    none, so the xlwings add-in's own setting applies). ``log``: append a Log row (as the
    ``excel`` command does); without, the same inputs give the same bytes. Returns the path
    written.
    """
    return build_excel(src_xlsx, dst_xlsm, interpreter_win=interpreter_win,
                       interpreter_mac=interpreter_mac, pending_ok=False, log=log).path


def build_excel(src_xlsx: str | os.PathLike[str], dst_xlsm: str | os.PathLike[str], *,
                interpreter_win: str | None = None, interpreter_mac: str | None = None,
                pending_ok: bool = True, force: bool = False, log: bool = True) -> ExcelBuild:
    """:func:`build_xlsm` for any workbook of the contract: with ``pending_ok``, inputs that can
    be read but do not compute yet (blank Data of a new workbook, a weight to correct) still give
    a workbook, whose examples read TRUE once the inputs are fixed; the problems are returned.
    Raises :class:`~xl_aiindex.errors.ProblemsFound` when the inputs cannot even be read (no
    Framework, a broken tree…) and :class:`~xl_aiindex.errors.UnreadableWorkbook` for a file
    that is not a workbook.

    Written as every workbook is (:mod:`xl_aiindex.workbook.writer`): the destination guarded
    (read-only, open in Excel or LibreOffice, not a regular file: :class:`UnsafeWrite`) and
    locked; sheets ``Examples`` and ``xlwings.conf`` of ``src`` that the tool did not write
    refused (:class:`ProblemsFound`, nothing written) unless ``force``; the fingerprints of
    those it writes stored; one Log row appended (``log=False``: none, the build of the shipped
    workbook); the file replaced atomically.
    """
    src, dst = Path(src_xlsx), Path(dst_xlsm)
    if dst.suffix.lower() != ".xlsm":
        raise XlAiIndexError(_("{path}: a macro-enabled workbook must end in .xlsm").format(
            path=dst))
    if src.suffix.lower() not in (".xlsx", ".xlsm"):
        raise UnreadableWorkbook(str(src), _("is not an .xlsx or .xlsm workbook"))
    guard_destination(src, dst, macros=True)
    check_package(src)
    if dst.is_symlink():   # the lock and the write belong to the file the link points at
        dst = Path(os.path.realpath(dst))
    with workbook_lock(dst):
        loaded = load_workbook(src)
        check_replaced(loaded, (EXAMPLES, CONF), command="excel", force=force)
        plan = plan_rebuild(loaded, (EXAMPLES, CONF), replaces_source=_same_file(src, dst))
        data, problems, drawn = _build_package(loaded, interpreter_win, interpreter_mac,
                                               pending_ok, plan)
        entry = {"input": loaded.model.settings.input, "units": int(len(loaded.model.units)),
                 "status": "ok", "notes": f"{len(problems)} problem(s) in the inputs: the "
                 "functions compute once they are fixed" if problems else ""}
        data = finish_package(loaded, data, (EXAMPLES, CONF, *drawn), command="excel",
                              log_entry=entry, log=log)
        atomic_write(dst, data)
    return ExcelBuild(Path(dst_xlsm), problems)


def _same_file(src: Path, dst: Path) -> bool:
    return dst.exists() and os.path.samefile(src, dst)


def _build_package(loaded: Loaded, interpreter_win: str | None, interpreter_mac: str | None,
                   pending_ok: bool, plan: RebuildPlan | None = None
                   ) -> tuple[bytes, tuple[Problem, ...], list[str]]:
    """The macro-enabled package of ``loaded``'s workbook (module docstring), the inputs'
    problems when they do not compute yet (``pending_ok``; else they are raised), and the
    result sheets with charts spliced in (Charts, Compare: fingerprinted as the tool's)."""
    import openpyxl
    import xlsxwriter

    src = loaded.path
    problems: tuple[Problem, ...] = ()
    result: IndexResult | None
    try:
        result = compute(loaded)
    except ProblemsFound as e:
        if not pending_ok:
            raise
        result, problems = None, e.problems
    try:
        formulas = openpyxl.load_workbook(src)
        cached = openpyxl.load_workbook(src, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for damaged packages
        raise UnreadableWorkbook(str(src), f"cannot be read as a workbook ({e})") from e
    rows = (examples(result, _fit_ranges(cached, result)) if result is not None
            else pending_examples(loaded.model))
    skip = {key(EXAMPLES), key(CONF)}
    sheets = [ws for ws in formulas.worksheets if key(ws.title) not in skip]
    modules = vba_modules(len(sheets) + 2)  # + Examples and xlwings.conf
    wrappers = next(m.source for m in modules if m.name == "xlwings_udfs")
    missing = [m for m, _ in MACROS if f"\r\nSub {m}()\r\n" not in wrappers]
    if missing:
        raise XlAiIndexError(f"the buttons' macros {', '.join(missing)} are not Subs of udfs")
    plan = plan or RebuildPlan()   # the user's own modules and code join ours
    vba = project_bin(plan.project(modules), codepage=plan.codepage)
    created = formulas.properties.created or datetime(2020, 1, 1)

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({"title": formulas.properties.title or src.stem, "created": created,
                         "comments": "Built by xl-aiindex from " + src.name})
    book.set_vba_name("ThisWorkbook")
    book.add_vba_project(io.BytesIO(vba), is_stream=True)
    fmts = Formats(book)
    for ws in sheets:
        out = book.add_worksheet(ws.title)
        copy_sheet(ws, cached[ws.title], out, fmts, book)
    _write_examples(book, rows, result)
    _write_conf(book, conf_rows(interpreter_win, interpreter_mac))
    for i, out in enumerate(book.worksheets()):  # the code names of the document modules
        out.set_vba_name(sheet_code_name(i))
    for name, defined in formulas.defined_names.items():
        if defined.attr_text:
            book.define_name(name, "=" + defined.attr_text)
    for ws in formulas.worksheets:  # names local to a sheet
        if key(ws.title) in skip:
            continue
        for name, defined in ws.defined_names.items():
            if defined.attr_text:
                book.define_name("'" + ws.title.replace("'", "''") + "'!" + name,
                                 "=" + defined.attr_text)
    first_visible = next((i for i, ws in enumerate(formulas.worksheets)
                          if ws.sheet_state == "visible" and key(ws.title) not in skip), 0)
    book.worksheets()[first_visible].activate()
    book.close()
    data = error_values_as_errors(buffer.getvalue())
    if result is not None:
        # the cells were copied, the charts were not: put the native charts of Charts and
        # Compare back, as recalc writes them
        from .ooxml import splice_sheets
        from .visuals import visual_sheets

        spliced = io.BytesIO()   # not over a sheet of the user's of the name (as recalc)
        visuals = skip_optional_sheets(loaded, visual_sheets(result))[0]
        splice_sheets(io.BytesIO(data), spliced, visuals)
        stored = loaded.stored.sheets if loaded.stored is not None else {}
        return spliced.getvalue(), problems, [v.name for v in visuals
                                              if key(v.name) not in stored]
    return data, problems, []
