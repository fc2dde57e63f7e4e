"""`new`'s CSV files as Chinese Excel saves them (issue 22, §3): GBK/GB18030 read with a note,
weights as percentages, directions as words; text in no known encoding is refused clearly."""

from __future__ import annotations

import pytest

from xl_aiindex.errors import ProblemsFound
from xl_aiindex.i18n import use_language
from xl_aiindex.workbook.new_book.csv_inputs import read_framework_csv, read_units_csv

TREE = """id,parent,name_zh,weight,direction
r,,总指数,,
a,r,甲维度,３０％,
b,r,乙维度,70%,
x,a,指标一,1,正向
y,b,指标二,0.5,负向
z,b,指标三,50%,逆向
"""


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_tree_and_units_in_any_chinese_encoding(tmp_path, encoding):
    tree, units = tmp_path / "tree.csv", tmp_path / "units.csv"
    tree.write_bytes(TREE.encode(encoding))
    units.write_bytes("id,name_zh\nzj,浙江省\nnmg,内蒙古自治区\n".encode(encoding))
    notes: list[str] = []
    with use_language("en"):
        frame = read_units_csv(units, notes)
        nodes = read_framework_csv(tree, frame, notes)
    assert frame["name_zh"].tolist() == ["浙江省", "内蒙古自治区"]
    assert [n.name_zh for n in nodes] == ["总指数", "甲维度", "乙维度", "指标一", "指标二", "指标三"]
    assert nodes[0].weight is None
    assert [n.weight for n in nodes][1:] == pytest.approx([0.3, 0.7, 1.0, 0.5, 0.5])
    assert [n.direction for n in nodes][3:] == [1, -1, -1]
    gbk = encoding in ("gb18030", "gbk")
    assert notes == ([
        "file 'units.csv' is not UTF-8: read as GBK/GB18030 (Chinese Excel's plain CSV); check "
        "its Chinese names in the workbook",
        "file 'tree.csv' is not UTF-8: read as GBK/GB18030 (Chinese Excel's plain CSV); check "
        "its Chinese names in the workbook"] if gbk else [])


def test_text_in_no_known_encoding_is_refused_with_the_file_named(tmp_path):
    bad = tmp_path / "units.csv"
    bad.write_bytes(b"id,name_zh\nzj,\xff\xfe\xff\n")
    with use_language("en"), pytest.raises(ProblemsFound) as e:
        read_units_csv(bad)
    assert [str(p) for p in e.value.problems] == [
        "Sheet 'units.csv': the file is neither UTF-8 nor GBK/GB18030 text (invalid start byte "
        "at byte 14): save it as 'CSV UTF-8'"]
