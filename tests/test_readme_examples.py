"""The README's examples of audit, weights and recalc --check are real output: each is run and
its lines (between "…" elisions) must appear, in order, in what the command prints."""

from __future__ import annotations

import re
import shlex
import shutil

import pytest
from click.testing import CliRunner
from conftest import REPO

from xl_aiindex.cli import cli

README = (REPO / "README.md").read_text(encoding="utf-8")
CHECKED = ("xl-aiindex audit ", "xl-aiindex weights ", "xl-aiindex recalc --check ")


def examples() -> list[tuple[str, list[str]]]:
    out = []
    for block in re.findall(r"```text\n(.*?)```", README, re.S):
        lines = block.rstrip("\n").split("\n")
        if lines[0].startswith("$ ") and lines[0][2:].startswith(CHECKED):
            out.append((lines[0][2:], lines[1:]))
    return out


def test_the_examples_are_found():
    assert sorted(c.split()[1] for c, _ in examples()) == ["audit", "recalc", "weights"]


@pytest.mark.parametrize("command, expected", examples(), ids=lambda v: str(v)[:30])
def test_readme_example_is_real_output(command, expected, tmp_path, monkeypatch):
    shutil.copytree(REPO / "workbooks", tmp_path / "workbooks",
                    ignore=shutil.ignore_patterns("seed", "*.py", "*.xlsm"))
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, shlex.split(command)[1:], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    actual = r.output.rstrip("\n").split("\n")
    chunks: list[list[str]] = [[]]
    for line in expected:
        if line == "…":
            chunks.append([])
        else:
            chunks[-1].append(line)
    start = 0
    for chunk in chunks:
        found = next((i for i in range(start, len(actual) - len(chunk) + 1)
                      if actual[i:i + len(chunk)] == chunk), None)
        assert found is not None, "\n".join(chunk)
        start = found + len(chunk)
    if chunks[-1]:   # no elision at the end: the output ends there
        assert start == len(actual)
