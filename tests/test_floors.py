"""The floors of pyproject.toml's dependencies are the versions .ci/floors.txt pins, so that
`pip install -c .ci/floors.txt -e ".[dev]"` tests exactly the oldest versions allowed."""

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_floors_file_pins_every_floor_of_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    floors: dict[str, str] = {}
    for spec in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][0-9.]*)", spec.strip())
        if m:
            floors[_canonical(m.group(1))] = m.group(2)
    pins: dict[str, str] = {}
    for line in (REPO / ".ci" / "floors.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[_canonical(name)] = version
    assert pins == floors
