"""A recalc imports only what it uses (issue 20: start-up is most of a small recalc's time).

A recalc of the shipped workbook runs in a fresh process, twice (``-o``, then in place: the
hand-edit check runs), and the modules loaded at its end are listed. A module list, not a
timing: what ``python -X importtime -m xl_aiindex recalc …`` showed to cost without use.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "workbooks" / "city_ai_index_2020.xlsx"

#: Packages a values-mode recalc never uses (openpyxl: formula mode's checks; scipy: weights
#: and uncertainty; xlwings, olefile, oletools: the Excel side; xlsxwriter: new workbooks).
FORBIDDEN = ["openpyxl", "scipy", "xlwings", "olefile", "oletools", "xlsxwriter"]

#: Modules of the other commands and of formula mode.
UNUSED = ["xl_aiindex.commands.audit", "xl_aiindex.commands.compare",
          "xl_aiindex.commands.explain", "xl_aiindex.commands.excel",
          "xl_aiindex.commands.export", "xl_aiindex.commands.report",
          "xl_aiindex.commands.uncertainty", "xl_aiindex.commands.weights",
          "xl_aiindex.commands.new_workbook", "xl_aiindex.commands.compare_editions",
          "xl_aiindex.batch", "xl_aiindex.uncertainty", "xl_aiindex.audit",
          "xl_aiindex.workbook.formulas.build", "xl_aiindex.workbook.formulas.calc",
          "xl_aiindex.workbook.formulas.scores", "xl_aiindex.workbook.formulas.methods"]

# the program runs as its console script does (``run``: it leaves through os._exit after the
# exit handlers), so the modules are reported by an exit handler; its exit code is the process's
SCRIPT = """\
import atexit, json, runpy, sys
report, args = sys.argv[1], sys.argv[2:]
sys.argv = ['xl-aiindex', *args]
atexit.register(lambda: open(report, 'w').write(json.dumps(sorted(sys.modules))))
runpy.run_module('xl_aiindex', run_name='__main__')
"""


def modules_after(folder: Path, *args: str) -> set[str]:
    """The modules loaded at the end of ``xl-aiindex ARGS`` in a fresh process."""
    report = folder / "modules.json"
    subprocess.run([sys.executable, "-c", SCRIPT, str(report), *args], check=True,
                   capture_output=True, cwd=folder)
    return set(json.loads(report.read_text()))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """The modules of a first recalc (``-o``) and of a second one in place on its output."""
    folder = tmp_path_factory.mktemp("startup")
    src = folder / SHIPPED.name
    shutil.copy(SHIPPED, src)
    out = folder / "out.xlsx"
    first = modules_after(folder, "recalc", str(src), "-o", str(out), "--top", "0")
    second = modules_after(folder, "recalc", str(out), "--top", "0")
    return {"first": first, "second": second}


@pytest.mark.parametrize("run", ["first", "second"])
def test_recalc_imports_no_package_it_does_not_use(runs, run):
    tops = {m.split(".")[0] for m in runs[run]}
    assert "pandas" in tops and "python_calamine" in tops     # the list is the real one
    assert sorted(tops & set(FORBIDDEN)) == []


@pytest.mark.parametrize("run", ["first", "second"])
def test_recalc_imports_no_other_command_nor_formula_mode(runs, run):
    assert "xl_aiindex.commands.recalc" in runs[run]
    assert sorted(runs[run] & set(UNUSED)) == []
