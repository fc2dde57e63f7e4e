"""The extent check (grid.sheet_extent) reads the rows and columns a sheet's cells span as an
XML parser reads its ``r`` attributes, however they are spelled: checked against ElementTree
on generated sheets. Plainly spelled sheets take the vectorised scan (issue 20: the regular
expressions it replaced cost as much as reading the sheet); any other spelling the exact one."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xl_aiindex.workbook import grid
from xl_aiindex.workbook.grid import sheet_extent


def parsed_extent(xml: bytes) -> tuple[int, int]:
    """The oracle: every ``r`` attribute as ElementTree decodes it (quotes, spaces around
    ``=``, character references), its letters as a column (A = 1) and its digits as a row."""
    height = width = 0
    for el in ET.fromstring(xml).iter():
        value = el.get("r")
        if value is None:
            continue
        m = re.match(r"\s*\$?([A-Za-z]*)\$?([0-9]*)", value)
        assert m is not None
        letters, digits = m.group(1).upper()[:12], m.group(2)[:12]
        column = 0
        for ch in letters:
            column = column * 26 + ord(ch) - 64
        width, height = max(width, column), max(height, int(digits or 0))
    return height, width


def column_name(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def plain_sheet(cells: list[tuple[int, int]]) -> bytes:
    """A sheet as writers write it: ``<row r="N">`` and ``<c r="B12">``, double quotes."""
    rows: dict[int, list[int]] = {}
    for r, c in cells:
        rows.setdefault(r, []).append(c)
    body = b"".join(
        b'<row r="%d">' % r + b"".join(b'<c r="%s%d" s="1"><v>1.5</v></c>'
                                       % (column_name(c).encode(), r) for c in sorted(cs))
        + b"</row>" for r, cs in sorted(rows.items()))
    return (b'<worksheet xmlns:r="urn:r"><dimension ref="A1"/><sheetData>' + body
            + b"</sheetData></worksheet>")


_CELL = st.tuples(st.integers(1, 1_048_576), st.integers(1, 16_384))


@settings(max_examples=200, deadline=None)
@given(st.lists(_CELL, max_size=30))
def test_plain_sheets_take_the_vectorised_scan_and_read_as_the_parser_does(cells):
    xml = plain_sheet(cells)
    assert grid._plain_extent(xml) == parsed_extent(xml)


# one r attribute's spelling: the quote, spaces around "=", case, "$", character references
_SPELLING = st.sampled_from([
    'r="{L}{D}"', "r='{L}{D}'", 'r = "{L}{D}"', 'r\t=\n"{L}{D}"', 'r="{l}{D}"', 'r="${L}${D}"',
    'r="{E}{D}"', 'r=" {L}{D}"', 'xr="{L}{D}"', 'r="{L}{D}" xr="XFD1048576"',
    'r2="XFD1048576" r="{L}{D}"'])


@st.composite
def odd_sheet(draw: st.DrawFn) -> bytes:
    """A well-formed sheet whose r attributes are spelled any way XML allows."""
    parts = []
    for _ in range(draw(st.integers(0, 8))):
        r, c = draw(_CELL)
        letters = column_name(c)
        # E: the first letter as a character reference
        attr = draw(_SPELLING).format(L=letters, l=letters.lower(), D=r,
                                      E=f"&#{ord(letters[0])};{letters[1:]}")
        text = draw(st.sampled_from(["", "r=x", "r = y", "r", "x r"]))
        parts.append(f'<row r="{r}"><c {attr}><v>1</v><t>{text}</t></c></row>')
    return ('<worksheet xmlns:r="urn:r"><sheetData>' + "".join(parts)
            + "</sheetData></worksheet>").encode()


@settings(max_examples=400, deadline=None)
@given(odd_sheet())
def test_any_spelling_reads_as_the_parser_reads_it(xml):
    assert sheet_extent(xml) == parsed_extent(xml)
    fast = grid._plain_extent(xml)
    assert fast is None or fast == parsed_extent(xml)


def test_a_sheet_larger_than_one_block_of_references():
    rng = np.random.default_rng(7)
    cells = [(int(r), int(c)) for r, c in zip(rng.integers(1, 50_000, 40_000),
                                              rng.integers(1, 800, 40_000), strict=True)]
    cells.append((2, 16_384))      # the widest column in a block of its own, early
    xml = plain_sheet(cells)
    assert xml.count(b' r="') > grid._REFS_AT_ONCE
    assert grid._plain_extent(xml) == parsed_extent(xml)


@pytest.mark.parametrize("before", [b"<c ", b"<x:c ", b'<c s="1" ', b"<c\n"])
def test_a_far_cell_is_seen_behind_any_prefix(before):
    xml = b'<sheetData><row r="1">' + before + b'r="XFD1048576"><v>1</v></c></row></sheetData>'
    assert sheet_extent(xml) == (1_048_576, 16_384)


def test_an_attribute_that_only_ends_in_r_names_no_cell():
    xml = b'<sheetData><row r="1"><c r="A1" xr="XFD1048576" x:r="XFD9"><v>1</v></c></row>'
    assert sheet_extent(xml) == (1, 1)


def test_text_that_looks_like_a_reference_only_enlarges_the_extent():
    # the scans read bytes, not XML: a cell's text spelled as an r attribute counts (an upper
    # bound: such a sheet may be refused, never read past the limit)
    xml = (b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[ r=\'ZZZ9\']]>'
           b"</t></is></c></row></sheetData>")
    assert parsed_extent(xml) == (1, 1)
    assert sheet_extent(xml) == (9, 18_278)


# the test for formula and error cells before the cell-by-cell scan (calamine_source)

_TOKENS = st.sampled_from([b"<f", b":f>", b't="e"', b"f", b"e", b"<", b":", b">", b'"', b"t",
                           b"=", b"<v>1.5</v>", b'<c r="A1">', b"x" * 40])


@settings(max_examples=400, deadline=None)
@given(st.lists(_TOKENS, max_size=40).map(b"".join))
def test_the_formula_test_finds_what_the_three_searches_find(xml):
    from xl_aiindex.workbook.calamine_source import may_hold_formulas

    padded = b"p" * 64 + xml        # the vectorised pass (short texts are searched)
    for text in (xml, padded, xml + b"q" * 64):
        expected = b"<f" in text or b":f>" in text or b't="e"' in text
        assert may_hold_formulas(text) == expected
