"""The floors of pyproject.toml's dependencies are the versions .ci/floors.txt pins, so that
`pip install -c .ci/floors.txt -e ".[dev]"` tests exactly the oldest versions allowed."""

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_floors_file_pins_every_floor_of_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    floors: dict[str, str] = {}
    for spec in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*[>=]=\s*([0-9][0-9.]*)", spec.strip())
        if m:
            floors[_canonical(m.group(1))] = m.group(2)
    pins: dict[str, str] = {}
    for line in (REPO / ".ci" / "floors.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[_canonical(name)] = version
    assert pins == floors


def test_xlwings_pin_is_the_version_the_shipped_xlsm_embeds() -> None:
    """The .xlsm calls xlwings64-<VERSION>.dll: pip must install exactly that xlwings."""
    from oletools.olevba import VBA_Parser

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pin = next(d.split("==")[1] for d in project["dependencies"] if d.startswith("xlwings=="))
    parser = VBA_Parser(str(REPO / "workbooks" / "city_ai_index_2020.xlsm"))
    modules = {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    m = re.search(r'XLWINGS_VERSION As String = "([^"]+)"', modules["xlwings"])
    assert m is not None and m.group(1) == pin
