"""A second recalc costs what the first costs (issue 20): the store keeps the CRC-32 and size of
the zip entry each result sheet was written to, and the hand-edit check reads a sheet only when
its entry no longer has them (edited, or saved by another program). These tests edit the XML of
one part and leave every other part's bytes as they were.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import xlsxwriter
from conftest import run
from python_calamine import CalamineWorkbook

from xl_aiindex.errors import HandEditsFound
from xl_aiindex.workbook import hand_edits, io
from xl_aiindex.workbook.fingerprint import (
    STORE_SHEET,
    PartSum,
    read_store,
    result_fingerprint,
    store_sheet,
)
from xl_aiindex.workbook.ooxml import splice_sheets
from xl_aiindex.workbook.package import Package
from xl_aiindex.workbook.sheetspec import Cell, SheetSpec

#: the result sheets a recalc of the small workbook writes
RESULTS = ["Scores", "Ranking", "Tiers", "WeightsUsed", "GroupRanking", "Charts"]


@pytest.fixture
def recalculated(small_book: Path) -> Path:
    """The small workbook after one recalc (so it holds the fingerprints and the sums)."""
    r = run("recalc", small_book, "--top", "0")
    assert r.exit_code == 0, r.output
    return small_book


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts the result sheets the hand-edit check reads, by name."""
    seen: Counter[str] = Counter()
    read = hand_edits._values

    def counting(reader, name):
        seen[name] += 1
        return read(reader, name)

    monkeypatch.setattr(hand_edits, "_values", counting)
    return seen


def store_values(path: Path) -> list[list[object]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(STORE_SHEET).to_python()


def rewrite_part(path: Path, part: str, edit: Callable[[bytes], bytes]) -> None:
    """Replace ``part``'s bytes by ``edit(bytes)``; every other entry keeps its name, order and
    uncompressed bytes (so its CRC-32 and size)."""
    with zipfile.ZipFile(path) as z:
        entries = [(i, z.read(i)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in entries:
            z.writestr(info, edit(data) if info.filename == part else data)


def set_value(xml: bytes, ref: str, value: str) -> bytes:
    """``xml`` with the ``<v>`` of cell ``ref`` replaced by ``value``."""
    out, n = re.subn(rb'(<c r="' + ref.encode() + rb'"[^>]*><v>)[^<]*(</v>)',
                     rb"\g<1>" + value.encode() + rb"\g<2>", xml)
    assert n == 1
    return out


def part_of(path: Path, sheet: str) -> str:
    with Package(path) as package:
        part = package.part(sheet)
    assert part is not None
    return part


def test_store_keeps_the_sums_of_each_result_entry_as_written(recalculated):
    stored = read_store(store_values(recalculated))
    assert stored is not None and sorted(stored.sheets) == sorted(s.lower() for s in RESULTS)
    with zipfile.ZipFile(recalculated) as z:
        for sheet in RESULTS:
            info = z.getinfo(part_of(recalculated, sheet))
            assert stored.sums[sheet.lower()] == PartSum(info.CRC, info.file_size), sheet


def test_a_second_recalc_reads_no_untouched_result_sheet(recalculated, parsed):
    assert run("recalc", recalculated, "--top", "0").exit_code == 0
    assert parsed == Counter()
    # and the store it wrote has the sums of the entries it wrote this time
    stored = read_store(store_values(recalculated))
    assert stored is not None and sorted(stored.sums) == sorted(s.lower() for s in RESULTS)


def test_a_hand_edit_in_one_part_is_found_and_only_that_part_is_read(recalculated, parsed):
    rewrite_part(recalculated, part_of(recalculated, "Ranking"),
                 lambda xml: set_value(xml, "E3", "90"))
    before = recalculated.read_bytes()
    with pytest.raises(HandEditsFound) as info:
        io.recalc_file(recalculated)
    assert [(p.sheet, p.cell) for p in info.value.problems] == [("Ranking", "E3")]
    assert "was 75, now 90" in info.value.problems[0].problem
    assert parsed == Counter({"Ranking": 1})
    assert recalculated.read_bytes() == before


def test_a_part_rewritten_with_the_same_cells_is_read_and_passes(recalculated, parsed):
    # another program saved the sheet (other bytes, same values): read, and no edit
    rewrite_part(recalculated, part_of(recalculated, "Tiers"),
                 lambda xml: xml.replace(b"<sheetData>", b"<sheetData >", 1))
    assert run("recalc", recalculated, "--top", "0").exit_code == 0
    assert parsed == Counter({"Tiers": 1})


def test_sheets_swapped_by_name_are_read(recalculated, parsed):
    # the sums belong to a sheet's name: a part now under another name is read
    ranking, tiers = part_of(recalculated, "Ranking"), part_of(recalculated, "Tiers")
    rewrite_part(recalculated, "xl/_rels/workbook.xml.rels",
                 lambda xml: xml.replace(ranking.removeprefix("xl/").encode(), b"@@")
                 .replace(tiers.removeprefix("xl/").encode(),
                          ranking.removeprefix("xl/").encode())
                 .replace(b"@@", tiers.removeprefix("xl/").encode()))
    with pytest.raises(HandEditsFound):
        io.recalc_file(recalculated)
    assert set(parsed) >= {"Ranking", "Tiers"}


def old_store(path: Path) -> None:
    """Replace the store by one written before the sums were kept (same fingerprints)."""
    stored = read_store(store_values(path))
    assert stored is not None and stored.sums
    old = store_sheet(list(stored.sheets.values()), stored.log_rows, stored.log_time,
                      stored.inputs_hash)
    splice_sheets(path, path, [old])
    again = read_store(store_values(path))
    assert again is not None and not again.sums and again.sheets == stored.sheets


def test_an_old_store_without_sums_still_finds_edits(recalculated, parsed):
    old_store(recalculated)
    rewrite_part(recalculated, part_of(recalculated, "Ranking"),
                 lambda xml: set_value(xml, "E3", "90"))
    with pytest.raises(HandEditsFound) as info:
        io.recalc_file(recalculated)
    assert [(p.sheet, p.cell) for p in info.value.problems] == [("Ranking", "E3")]
    assert set(parsed) == set(RESULTS)


def test_an_old_store_without_sums_passes_and_gets_them(recalculated, parsed):
    old_store(recalculated)
    assert run("recalc", recalculated, "--top", "0").exit_code == 0
    assert set(parsed) == set(RESULTS)
    stored = read_store(store_values(recalculated))
    assert stored is not None and sorted(stored.sums) == sorted(s.lower() for s in RESULTS)


def test_store_sums_round_trip_and_bad_ones_are_ignored():
    specs = [SheetSpec("Scores", [[Cell("unit")], [Cell(1.5)]]),
             SheetSpec("Ranking", [[Cell("rank")], [Cell(1)]])]
    fps = result_fingerprint(specs)
    sums = {"scores": PartSum(0xDEADBEEF, 1234), "ranking": PartSum(7, 0)}
    store = store_sheet(fps, log_rows=1, log_time="t", sums=sums)
    values = [[c.value for c in row] for row in store.rows]
    assert ["Scores", "zip", 0, "crc32:deadbeef:1234"] in values
    stored = read_store(values)
    assert stored is not None and stored.sums == sums
    # a damaged sum, or one of a sheet without fingerprint, proves nothing; the rest stands
    damaged = [row if row[1] != "zip" or row[0] != "Scores" else
               ["Scores", "zip", 0, "crc32:nothex!:12"] for row in values]
    damaged.append(["Other", "zip", 0, "crc32:00000001:1"])
    stored = read_store(damaged)
    assert stored is not None and stored.sums == {"ranking": PartSum(7, 0)}
    assert stored.sheets.keys() == {"scores", "ranking"}
    assert PartSum.parse("crc32:0000000:1") is None and PartSum.parse("") is None


def three_sheets(path: Path) -> Path:
    book = xlsxwriter.Workbook(str(path))
    for name in ("A", "Store", "B"):
        book.add_worksheet(name).write(0, 0, name)
    book.close()
    return path


@pytest.mark.parametrize("order", [["A", "B", "Store"], ["B", "A", "Store"]])
def test_the_last_sheet_is_finished_after_every_other_is_written(tmp_path, order):
    # the stand-in's part (sheet2) comes before B's (sheet3) in the package: it waits for B
    src = three_sheets(tmp_path / "src.xlsx")
    dst = tmp_path / "dst.xlsx"
    seen: list[dict[str, tuple[int, int]]] = []

    def finish(sums):
        seen.append(dict(sums))
        return SheetSpec("Store", [[Cell(k), Cell(f"{crc}:{size}")]
                                   for k, (crc, size) in sorted(sums.items())])

    specs = {n: SheetSpec(n, [[Cell(f"new {n}")], [Cell(2.5)]]) for n in ("A", "B")}
    specs["Store"] = SheetSpec("Store", [[Cell("stand-in")]])
    splice_sheets(src, dst, [specs[n] for n in order], finish_last=finish)
    assert len(seen) == 1 and sorted(seen[0]) == ["A", "B"]
    with zipfile.ZipFile(dst) as z:
        names = [i.filename for i in z.infolist()]
        for sheet, part in (("A", "xl/worksheets/sheet1.xml"), ("B", "xl/worksheets/sheet3.xml")):
            info = z.getinfo(part)
            assert seen[0][sheet] == (info.CRC, info.file_size)
        assert z.testzip() is None
    assert names[-1] == "xl/worksheets/sheet2.xml"    # written last, whole
    assert sorted(names) == sorted(zipfile.ZipFile(src).namelist())
    book = CalamineWorkbook.from_path(str(dst))
    assert book.sheet_names == ["A", "Store", "B"]
    assert book.get_sheet_by_name("Store").to_python() == [
        ["A", f"{seen[0]['A'][0]}:{seen[0]['A'][1]}"], ["B", f"{seen[0]['B'][0]}:{seen[0]['B'][1]}"]]
    assert book.get_sheet_by_name("B").to_python() == [["new B"], [2.5]]


def test_the_last_sheet_keeps_its_place_when_the_others_come_first(tmp_path):
    src = three_sheets(tmp_path / "src.xlsx")
    dst = tmp_path / "dst.xlsx"
    splice_sheets(src, dst, [SheetSpec("A", [[Cell(1)]]), SheetSpec("Store", [[Cell(0)]])],
                  finish_last=lambda sums: SheetSpec("Store", [[Cell(len(sums))]]))
    assert zipfile.ZipFile(dst).namelist() == zipfile.ZipFile(src).namelist()
    assert CalamineWorkbook.from_path(str(dst)).get_sheet_by_name("Store").to_python() == [[1.0]]


def test_a_sheet_another_command_wrote_keeps_its_sums_through_a_recalc(recalculated, parsed):
    # audit writes Audit; recalc keeps Audit's fingerprint and sums (its entry is copied
    # unchanged); the next audit then reads none of its sheets
    assert run("audit", recalculated).exit_code == 0
    assert run("recalc", recalculated, "--top", "0").exit_code == 0
    stored = read_store(store_values(recalculated))
    assert stored is not None and "audit" in stored.sums
    with zipfile.ZipFile(recalculated) as z:
        info = z.getinfo(part_of(recalculated, "Audit"))
    assert stored.sums["audit"] == PartSum(info.CRC, info.file_size)
    parsed.clear()
    assert run("audit", recalculated).exit_code == 0
    assert parsed == Counter()
    # edited in its XML, it is read again, and the edit found
    rewrite_part(recalculated, part_of(recalculated, "Audit"),
                 lambda xml: set_value(xml, "O2", "12345"))
    r = run("audit", recalculated)
    assert r.exit_code == 1 and "Sheet 'Audit', cell O2: edited by hand" in r.output
    assert parsed == Counter({"Audit": 1})
