"""The extent check's fast scan (grid.sheet_extent) finds what the word-boundary patterns it
replaced found, whatever precedes an ``r`` attribute (issue 20: the patterns now start with the
literal ``r="``, which the regex engine jumps between)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from xl_aiindex.workbook.grid import MAX_SHEET_CELLS, sheet_extent


def old_named(xml: bytes, letters: int) -> set[bytes]:
    return set(re.findall(rb'\br="([A-Z]{%d})[0-9]' % letters, xml))


def old_long_row(xml: bytes, digits: int) -> bool:
    return re.search(rb'\br="[A-Z]{0,3}[0-9]{%d,}"' % digits, xml) is not None


def new_named(xml: bytes, letters: int) -> set[bytes]:
    return set(re.findall(rb'r="(?<!\wr=")([A-Z]{%d})[0-9]' % letters, xml))


def new_long_row(xml: bytes, digits: int) -> bool:
    return re.search(rb'r="(?<!\wr=")[A-Z]{0,3}[0-9]{%d,}"' % digits, xml) is not None


# what may stand before an r attribute: nothing, a space, a word character, ':', '"', '<'…
_BEFORE = st.sampled_from([b"", b" ", b"x", b"_", b"9", b":", b'"', b"<c ", b"x:", b"\n", b"."])
_REF = st.tuples(st.text("ABCXYZ", max_size=4), st.text("0123456789", max_size=9)).map(
    lambda p: f'r="{p[0]}{p[1]}"'.encode())
_XML = st.lists(st.tuples(_BEFORE, _REF, st.sampled_from([b"", b"/>", b"><v>1</v></c>"])),
                max_size=12).map(lambda parts: b"".join(a + b + c for a, b, c in parts))


@settings(max_examples=400, deadline=None)
@given(_XML, st.integers(1, 8))
def test_literal_first_patterns_match_the_word_boundary_ones(xml, n):
    for letters in (2, 3):
        assert new_named(xml, letters) == old_named(xml, letters)
    assert new_long_row(xml, n) == old_long_row(xml, n)


def test_a_far_cell_is_still_seen_behind_any_prefix():
    for before in (b"<c ", b"<x:c ", b'<c s="1" '):
        xml = b'<sheetData><row r="1">' + before + b'r="XFD1048576"><v>1</v></c></row>'
        height, width = sheet_extent(xml, MAX_SHEET_CELLS)
        assert height * width > MAX_SHEET_CELLS
    # an attribute that only ends in r (xr="…", x_r="…") names no cell
    xml = b'<sheetData><row r="1"><c r="A1" xr="XFD1048576"><v>1</v></c></row>'
    assert sheet_extent(xml, MAX_SHEET_CELLS) == (1, 26)
