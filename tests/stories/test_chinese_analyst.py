"""A Chinese analyst's first provincial index (issue 22): a 31-province digital-economy index
made with ``new`` from CSV files Chinese Excel saved (GB18030, weights as 30%, directions as
正向/负向), filled in Chinese habits (—, 暂无, full-width percentages, settings with full-width
separators), and every command run on it: no refusal a Chinese analyst would find unreasonable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest
from conftest import run, set_settings

PROVINCES = [
    ("beijing", "北京市"), ("tianjin", "天津市"), ("hebei", "河北省"), ("shanxi", "山西省"),
    ("neimenggu", "内蒙古自治区"), ("liaoning", "辽宁省"), ("jilin", "吉林省"),
    ("heilongjiang", "黑龙江省"), ("shanghai", "上海市"), ("jiangsu", "江苏省"),
    ("zhejiang", "浙江省"), ("anhui", "安徽省"), ("fujian", "福建省"), ("jiangxi", "江西省"),
    ("shandong", "山东省"), ("henan", "河南省"), ("hubei", "湖北省"), ("hunan", "湖南省"),
    ("guangdong", "广东省"), ("guangxi", "广西壮族自治区"), ("hainan", "海南省"),
    ("chongqing", "重庆市"), ("sichuan", "四川省"), ("guizhou", "贵州省"), ("yunnan", "云南省"),
    ("xizang", "西藏自治区"), ("shaanxi", "陕西省"), ("gansu", "甘肃省"), ("qinghai", "青海省"),
    ("ningxia", "宁夏回族自治区"), ("xinjiang", "新疆维吾尔自治区"),
]
TREE = """id,parent,name_zh,name_en,weight,direction
dei,,数字经济指数,Digital Economy Index,,
infra,dei,数字基础设施,Digital infrastructure,30%,
industry,dei,数字产业化,Digital industry,40%,
gov,dei,数字治理,Digital governance,30%,
i01,infra,互联网宽带接入端口,Broadband ports,20%,正向
i02,infra,5G基站数,5G base stations,20%,正向
i03,infra,移动电话普及率,Mobile penetration,20%,正
i04,infra,数据中心机架数,Data centre racks,20%,正指标
i05,infra,网络延迟,Network latency,20%,负向
i06,industry,软件业务收入,Software revenue,20%,正向
i07,industry,电子信息制造业营收,Electronics revenue,20%,正向
i08,industry,数字经济核心产业增加值占比,Core digital share,20%,正向
i09,industry,电子商务交易额,E-commerce volume,20%,正向
i10,industry,单位GDP能耗,Energy per GDP,20%,逆向
i11,gov,政务服务网上可办率,Online government services,２０％,正向
i12,gov,数据开放平台数据集,Open datasets,２０％,正向
i13,gov,网络安全事件,Security incidents,２０％,负
i14,gov,数字素养培训人次,Digital literacy trainees,２０％,正向
i15,gov,公共数据授权运营,Public data licensing,２０％,负指标
"""
#: Each indicator's typical size (the unit it is counted in differs from one to the next).
SCALES = [800, 12, 110, 30, 40, 2000, 5000, 9.5, 15000, 0.5, 85, 300, 60, 120, 3]
COMMON = {"env": {"LANG": "C.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}}


@pytest.fixture(autouse=True)
def _english(monkeypatch):
    for name, value in COMMON["env"].items():
        monkeypatch.setenv(name, value)


def _csv_files(folder: Path) -> tuple[Path, Path]:
    """The tree and the provinces as Chinese Excel's plain "CSV" saves them: GB18030."""
    units = "id,name_zh,name_en\n" + "".join(f"{i},{zh},{i.title()}\n" for i, zh in PROVINCES)
    tree, unit_file = folder / "指标体系.csv", folder / "省份.csv"
    tree.write_bytes(TREE.encode("gb18030"))
    unit_file.write_bytes(units.encode("gb18030"))
    return tree, unit_file


def _fill(book: Path, *, percent_cell: str | None = None, typo: bool = False) -> None:
    """Fill Data as an analyst does: numbers, — and 暂无 for gaps; Settings in Chinese habits."""
    wb = openpyxl.load_workbook(book)
    ws = wb["Data"]
    rng = np.random.default_rng(22)
    for c, scale in enumerate(SCALES, start=2):
        for r in range(2, 33):
            ws.cell(r, c).value = round(float(scale * rng.lognormal(0, 0.4)), 2)
    ws["C5"], ws["D9"], ws["F20"] = "—", "暂无", "N/A"
    if percent_cell:
        ws[percent_cell] = "３２％"
    if typo:
        ws["G12"] = ws["G12"].value * 100       # 浙江省's 软件业务收入 typed in the wrong unit
    set_settings(wb, {"missing": "mean", "unit_label": "省份/province",
                      "compare": "浙江／广东；北京/上海", "tiers": "rank：10，20",
                      "tier_labels": "第一梯队；第二梯队；第三梯队"})
    unc = wb.create_sheet("Uncertainty")
    for row in (["assumption", "how", "values"], ["weights", "uniform", "２５％"],
                ["normalisation", "choice", "minmax；zscore"]):
        unc.append(row)
    wb.save(book)


def test_a_provincial_index_in_chinese_habits(tmp_path):
    tree, units = _csv_files(tmp_path)
    book = tmp_path / "dei.xlsx"
    r = run("new", "--framework", tree, "--units", units, "-o", book)
    assert r.exit_code == 0, r.output
    assert "note: file '省份.csv' is not UTF-8: read as GBK/GB18030" in r.output
    assert "Wrote " in r.output and "(15 indicators), 31 units" in r.output
    wb = openpyxl.load_workbook(book)
    framework = {row[0]: row for row in wb["Framework"].iter_rows(min_row=2, values_only=True)}
    assert framework["infra"][4] == pytest.approx(0.3) and framework["i11"][4] == pytest.approx(0.2)
    assert [framework[i][5] for i in ("i05", "i10", "i13", "i15", "i03")] == [-1, -1, -1, -1, 1]
    assert [row[1] for row in wb["Units"].iter_rows(min_row=2, values_only=True)][:5] == [
        "北京市", "天津市", "河北省", "山西省", "内蒙古自治区"]

    # still empty: one line, not 465
    r = run("recalc", book)
    assert r.exit_code == 1
    assert r.output.splitlines() == [
        "465 problems found:",
        "Sheet 'Data': 465 empty cells: fill in 31 units × 15 indicators (B2 to P32), or set "
        "'missing' to reweight or an imputation method (mean, median, group_mean:COLUMN…)"]

    # a share typed as a percentage among percentage points: named, with its cell
    _fill(book, percent_cell="I7")
    r = run("validate", book)
    assert r.exit_code == 1
    assert r.output.splitlines()[1].startswith(
        "Sheet 'Data', cell I7: unit liaoning (辽宁省), indicator i08 (数字经济核心产业增加值占比): "
        "'３２％' is read as the share 0.32")

    # filled properly, but for a ×100 typo: computed, and the typo pointed at
    book.unlink()
    assert run("new", "--framework", tree, "--units", units, "-o", book).exit_code == 0
    _fill(book, typo=True)
    r = run("recalc", book)
    assert r.exit_code == 0, r.output
    assert ("note: Sheet 'Data': 3 cell(s) read as missing values (—, 暂无, N/A): C5, D9, F20; "
            "Settings missing_markers sets which texts mean missing") in r.output
    assert "note: Sheet 'Data', cell G12: unit zhejiang (浙江省), indicator i06 (软件业务收入):" \
        in r.output
    for typed, unit in (("浙江", "浙江省"), ("内蒙古", "内蒙古自治区"), ("广西", "广西壮族自治区"),
                        ("西藏", "西藏自治区"), ("宁夏", "宁夏回族自治区"), ("新疆", "新疆维吾尔自治区")):
        r = run("explain", book, typed)
        assert r.exit_code == 0, r.output
        assert r.output.startswith(unit), r.output
    r = run("explain", book, "浙")
    assert (r.exit_code, r.output) == (2, 'Error: unknown province "浙" — did you mean 浙江省?\n')
    r = run("audit", book)
    assert r.exit_code == 0, r.output
    assert "i06 (软件业务收入) is skewed" in r.output
    assert ", far out: zhejiang (浙江省)" in r.output
    assert "[Data!G12]" in r.output
    for args in (("compare", book, "浙江", "广东"), ("weights", book), ("validate", book),
                 ("export", book, "--format", "csv", "--out-dir", tmp_path / "out"),
                 ("report", book, "-o", tmp_path / "dei.html"),
                 ("uncertainty", book, "--samples", 16, "--budget", 0),
                 ("excel", book, "-o", tmp_path / "dei.xlsm")):
        r = run(*args)
        assert r.exit_code == 0, (args, r.output)
    assert "省份对比" in (tmp_path / "dei.html").read_text(encoding="utf-8")
