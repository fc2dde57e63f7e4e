"""The README's terminal examples are what the commands print.

Every ```text block whose first line is ``$ xl-aiindex …`` on a shipped workbook is run (in a
scratch folder, so ``-o out/…`` writes there) and its output compared line by line; a line
``…`` in the README stands for any number of lines. Examples on files a reader makes first
(``tree.csv``, ``scenarios/``) are listed in SKIPPED, with the test that covers them.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import docs_text

from xl_aiindex.cli import cli

REPO = Path(__file__).resolve().parents[2]
README = docs_text()   # the README and docs/*.md: examples live on every page

#: Examples whose inputs the reader makes first; each is covered elsewhere.
SKIPPED = {
    "new": "tests/commands/test_new.py (a tree.csv and units.csv of the reader's)",
    "scenarios/": "tests/commands/test_batch.py (a folder of the reader's)",
}


def examples() -> list[tuple[str, list[str]]]:
    """(command line, expected output lines) of every README example to run."""
    found = []
    for block in re.findall(r"```text\n(.*?)```", README, flags=re.S):
        lines = block.rstrip("\n").split("\n")
        if not lines[0].startswith("$ xl-aiindex "):
            continue
        command = lines[0][2:]
        if any(marker in command for marker in SKIPPED):
            continue
        found.append((command, lines[1:]))
    return found


def matches(expected: list[str], actual: list[str]) -> bool:
    """``actual`` equals ``expected``, where an expected line ``…`` matches any run of lines."""
    if not expected:
        return not actual
    if expected[0] == "…":
        return any(matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and actual[0] == expected[0] and matches(expected[1:], actual[1:])


def test_there_are_examples() -> None:
    commands = [c.split()[1] for c, _ in examples()]
    assert {"recalc", "explain", "uncertainty", "audit", "weights"} <= set(commands), commands


@pytest.mark.parametrize("command,expected", examples(), ids=lambda v: v if isinstance(v, str)
                         else "")
def test_readme_example(command: str, expected: list[str], tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    # a copy: some examples write into the workbook they name
    shutil.copytree(REPO / "workbooks", tmp_path / "workbooks",
                    ignore=shutil.ignore_patterns("seed", "*.py"))
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, shlex.split(command)[1:])
    assert r.exit_code == 0, r.output
    actual = r.stdout.rstrip("\n").split("\n")
    assert matches(expected, actual), "\n".join(["README:", *expected, "actual:", *actual])
