"""What a new user meets first: the README's first command on a fresh clone, output folders,
notes, one-workbook flags, and result sheets as an analyst reads them (issue "A newcomer's
first hour")."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import run, write_book

from xl_aiindex.cli import cli

REPO = Path(__file__).resolve().parents[2]
GIVEN = REPO / "workbooks" / "city_ai_index_2020.xlsx"
DATA = REPO / "workbooks" / "city_ai_index_2020_data.xlsx"


def readme_first_command() -> list[str]:
    """The command the README's first line runs after installing (``pip install … && python -m
    compileall … && xl-aiindex …``)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    first = block.splitlines()[0]
    steps = first.split(" && ")
    assert steps[0].startswith("pip install -e ") and len(steps) >= 2, first
    assert all(s.startswith("python -m compileall ") for s in steps[1:-1]), first
    return shlex.split(steps[-1])


def _xl_aiindex() -> list[str]:
    """``xl-aiindex`` run from the clone's own code: ``python -m`` puts the working folder (the
    clone) first on the import path, whatever checkout the installed entry point points at."""
    return [sys.executable, "-m", "xl_aiindex"]


def test_readme_first_command_on_a_fresh_clone_then_the_test_still_passes(tmp_path: Path) -> None:
    """A fresh clone has no out/ folder (it is git-ignored): the README's command must make it.
    Then the README's invitation to recalc in place must not break the test command."""
    if not (REPO / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout: nothing to clone")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=120)
    assert not (clone / "out").exists()
    argv = readme_first_command()
    assert argv[0] == "xl-aiindex"
    r = subprocess.run(_xl_aiindex() + argv[1:], cwd=clone, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert (clone / "out" / "city_ai_index_2020.xlsx").is_file()
    assert "Recalculated workbooks/city_ai_index_2020.xlsx: 30 units" in r.stdout
    # "drop -o … to update the workbook in place": then the tests of the clone still pass
    inplace = [a for a in argv[1:] if a not in ("-o", argv[argv.index("-o") + 1])]
    r = subprocess.run(_xl_aiindex() + inplace, cwd=clone, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert subprocess.run(["git", "status", "--porcelain", "workbooks"], cwd=clone,
                          capture_output=True, text=True, check=True).stdout.strip() \
        == "M workbooks/city_ai_index_2020.xlsx"
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "tests/commands/test_scaffold.py", "-k", "committed_workbooks"], cwd=clone,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:]


def test_output_folders_are_created(small_book: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "deeper" / "out.xlsx"
    r = run("recalc", small_book, "-o", out, "--top", "0")
    assert r.exit_code == 0, r.output
    assert out.is_file()


def test_a_folder_that_cannot_be_made_is_named(small_book: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    out = tmp_path / "afile" / "x" / "out.xlsx"
    r = run("recalc", small_book, "-o", out)
    assert r.exit_code == 2
    assert r.output == (f"Error: {out}: cannot write: cannot create the folder {out.parent}: "
                        f"{tmp_path / 'afile'} is a file, not a folder; nothing was written\n")


def test_uncertainty_output_folder_is_created(small, tmp_path: Path) -> None:
    small["Uncertainty"] = [["assumption", "how", "values"], ["weights", "uniform", 0.2]]
    book = write_book(tmp_path / "u.xlsx", small)
    out = tmp_path / "results" / "u.xlsx"
    r = run("uncertainty", book, "-o", out, "--samples", "8", "--top", "0")
    assert r.exit_code == 0, r.output
    assert "UncertaintyResults" in openpyxl.load_workbook(out).sheetnames


@pytest.fixture
def percent_book(small, tmp_path: Path) -> Path:
    # unit b, x1: text read as the number 20 (its value); a share, 20%, among x1's 10…50 would be
    # a problem of mixed scales (tests/reading/test_chinese_input.py)
    small["Data"][2][1] = "2000%"
    return write_book(tmp_path / "pct.xlsx", small)


NOTE = "Sheet 'Data', cell B3: text '2000%' read as the number 20"


def test_recalc_prints_the_notes_validate_prints(percent_book: Path, tmp_path: Path) -> None:
    v = CliRunner().invoke(cli, ["validate", str(percent_book)])
    r = CliRunner().invoke(cli, ["recalc", str(percent_book), "-o", str(tmp_path / "o.xlsx"),
                                 "--top", "0"])
    assert v.exit_code == r.exit_code == 0
    assert f"note: {NOTE}\n" in v.stderr
    assert r.stderr == v.stderr == f"note: {NOTE}\n"


def test_json_with_one_workbook_and_o(percent_book: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.xlsx"
    r = run("recalc", percent_book, "-o", out, "--json")
    assert r.exit_code == 0, r.output
    record = json.loads(r.stdout)
    assert (record["path"], record["status"], record["output"], record["notes"]) == (
        str(percent_book), "ok", str(out), [NOTE])
    assert out.is_file()


def test_quiet_with_one_workbook(percent_book: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["recalc", str(percent_book), "-o", str(tmp_path / "o.xlsx"),
                                 "--quiet"])
    assert r.exit_code == 0
    assert (r.stdout, r.stderr) == ("", f"note: {NOTE}\n")
    r = CliRunner().invoke(cli, ["validate", str(percent_book), "--quiet"])
    assert (r.exit_code, r.stdout) == (0, "")


def test_o_with_out_dir_is_refused(small_book: Path, tmp_path: Path) -> None:
    r = run("recalc", small_book, "-o", tmp_path / "a.xlsx", "--out-dir", tmp_path)
    assert r.exit_code == 2
    assert "give -o OUT or --out-dir DIR, not both" in r.output


def test_one_workbook_is_singular(small_book: Path, tmp_path: Path) -> None:
    r = run("validate", small_book, "--json")
    assert r.exit_code == 0
    r = run("recalc", small_book, "--out-dir", tmp_path / "o")
    assert r.stdout.splitlines()[-1].startswith("1 ok, 0 failed (1 workbook, ")


def test_explain_says_why_depth_stops_and_who_leads() -> None:
    r = CliRunner().invoke(cli, ["explain", str(GIVEN), "北京", "--depth", "2"])
    assert r.exit_code == 0, r.output
    assert r.stderr == ("note: --depth 2 shows 1 level: the nodes below have no score with "
                        "input = given (computation starts at the Given sheet's nodes; set input "
                        "= data to compute them from the Data sheet)\n")
    # Beijing is first on all five dimensions of the published table
    assert r.stdout.splitlines()[-1] == ("Leads on every child of index: no gap to the best unit "
                                         "anywhere")
    r = CliRunner().invoke(cli, ["explain", str(DATA), "北京", "--node", "rnd", "--depth", "3"])
    assert r.stderr == "note: --depth 3 shows 2 levels: the tree has no level below\n"


def _rows(path: Path, sheet: str) -> list[tuple]:
    return list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))


def test_given_mode_scores_hold_only_nodes_with_scores() -> None:
    header = _rows(GIVEN, "Scores")[0]
    assert header == ("unit", "name_zh", "name_en", "environment", "funding", "rnd",
                      "infrastructure", "outcomes", "index", "coverage")
    # data mode keeps every node (38) between the names and coverage
    assert len(_rows(DATA, "Scores")[0]) == 3 + 38 + 1


def test_ranking_as_an_analyst_reads_it() -> None:
    book = openpyxl.load_workbook(GIVEN)
    rows = list(book["Ranking"].iter_rows(values_only=True))
    header = rows[0]
    col = {h: i for i, h in enumerate(header)}
    for row in rows[1:]:
        rank = row[col["rank"]]
        assert type(rank) is int
        assert row[col["tier"]] == ("第一梯队" if rank <= 10 else "第二梯队" if rank <= 20
                                    else "第三梯队")
        # diff: score − published, at the 2 decimals of the published figures
        want = round(row[col["score"]] - row[col["published"]], 2) + 0.0
        assert row[col["diff"]] == want and abs(want) <= 0.01
    # the data workbook (synthetic data) has no printed totals to compare with
    assert "published" not in _rows(DATA, "Ranking")[0]


def test_direction_may_be_a_sign(small, tmp_path: Path) -> None:
    """``+``/``-`` (also full-width) read as 1/-1: the same result as the numbers."""
    signs = {1: "+", -1: "－"}
    for row in small["Framework"][1:]:
        if row[5] is not None:
            row[5] = signs[row[5]]
    book = write_book(tmp_path / "signs.xlsx", small)
    r = run("recalc", book, "-o", tmp_path / "o.xlsx")
    assert r.exit_code == 0, r.output
    # the small index's ranking by hand (x2 lower is better): e, d, c, b, a
    assert [row[1] for row in _rows(tmp_path / "o.xlsx", "Ranking")[1:]] == list("edcba")


def test_fit_weights_aligns_cjk_names() -> None:
    r = run("fit-weights", GIVEN)
    assert r.exit_code == 0
    from xl_aiindex.terminal import display_width

    lines = [line for line in r.output.splitlines() if line.endswith(tuple("0123456789"))
             and "(" in line and line.startswith("  ")]
    assert len(lines) == 30
    # every residual starts in the same terminal column, 石家庄 (three wide characters) included
    starts = {display_width(line[: line.rstrip().rfind(" ") + 1]) for line in lines}
    assert len(starts) == 1


def test_readme_rows_are_as_high_as_their_text() -> None:
    """LibreOffice and WPS keep a row at 15 pt unless the file says otherwise: every README row
    whose text wraps must carry a height of at least one 15 pt line per wrapped line."""
    for path in (GIVEN, DATA):
        ws = openpyxl.load_workbook(path)["README"]
        for r in range(2, ws.max_row + 1):
            en = str(ws.cell(r, 1).value or "")
            # an English line of 90-character column holds at most ~100 characters
            lines = -(-len(en) // 100)
            height = ws.row_dimensions[r].height
            assert height is not None and height >= 15 * lines, (path.name, r, height, lines)
