"""The shipped 2020 workbooks reproduce the report's published table (tests/data, copied from
the report's appendix), and the weights inferred from it are the report's."""

import csv
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xl_aiindex.cli import cli
from xl_aiindex.workbook.io import load_workbook, recalc_file

REPO = Path(__file__).resolve().parents[2]
GIVEN_BOOK = REPO / "workbooks" / "city_ai_index_2020.xlsx"
DATA_BOOK = REPO / "workbooks" / "city_ai_index_2020_data.xlsx"
PUBLISHED = Path(__file__).resolve().parents[1] / "data" / "published_scores_2020.csv"


def published() -> list[dict[str, str]]:
    with open(PUBLISHED, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def sheet_rows(path: Path, name: str) -> list[dict]:
    ws = openpyxl.load_workbook(path, read_only=True)[name]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "out.xlsx"
    recalc_file(GIVEN_BOOK, out)
    return out


def test_totals_ranks_and_tiers_match_the_report(recalculated):
    ranking = sheet_rows(recalculated, "Ranking")
    table = published()
    assert len(ranking) == len(table) == 30
    for ours, theirs in zip(ranking, table, strict=True):
        # same order: the i-th row of our ranking is the report's i-th city
        assert ours["name_zh"] == theirs["city"]
        assert ours["rank"] == int(theirs["rank"])
        assert ours["score"] == pytest.approx(float(theirs["total"]), abs=0.01)
        # the report's tiers: ranks 1-10, 11-20, the rest
        assert ours["tier"] == ("第一梯队" if int(theirs["rank"]) <= 10 else "第二梯队"
                                if int(theirs["rank"]) <= 20 else "第三梯队")
        assert ours["published"] == pytest.approx(float(theirs["total"]))
        assert abs(ours["diff"]) <= 0.01


def test_tiers_sheet_lists_the_reports_cities(recalculated):
    tiers = sheet_rows(recalculated, "Tiers")
    assert [t["label"] for t in tiers] == ["第一梯队", "第二梯队", "第三梯队"]
    assert [t["count"] for t in tiers] == [10, 10, 10]
    assert tiers[1]["units"].split(", ")[:4] == ["济南", "西安", "重庆", "青岛"]


def test_fit_weights_recovers_the_2020_weights():
    r = CliRunner().invoke(cli, ["fit-weights", str(GIVEN_BOOK)])
    assert r.exit_code == 0, r.output
    fitted = {line.split()[0]: float(line.split()[1]) for line in r.output.splitlines()[2:7]}
    expected = {"environment": 0.15, "funding": 0.20, "rnd": 0.25, "infrastructure": 0.20,
                "outcomes": 0.20}
    assert fitted.keys() == expected.keys()
    for node, w in expected.items():
        assert fitted[node] == pytest.approx(w, abs=0.005)
    assert float(r.output.splitlines()[-1].split()[4].rstrip(";")) < 0.01  # largest |residual|


def test_reference_workbooks_follow_the_tree():
    loaded = load_workbook(GIVEN_BOOK)
    nodes = loaded.model.nodes
    parents = {n.id: n.parent for n in nodes}
    level = {n.id: 0 if n.parent is None else None for n in nodes}
    for n in nodes:
        d, p = 0, n.parent
        while p is not None:
            d, p = d + 1, parents[p]
        level[n.id] = d
    counts = [sum(1 for v in level.values() if v == k) for k in range(4)]
    assert counts == [1, 5, 12, 20]


def test_data_workbook_runs_the_whole_tree(tmp_path):
    out = tmp_path / "data.xlsx"
    result = recalc_file(DATA_BOOK, out)
    assert result.scores.notna().all().all()
    assert sorted(result.rank.astype(int)) == list(range(1, 31))
    # efficacy normalisation keeps every score within [60, 100]
    assert result.scores.min().min() >= 60 - 1e-9 and result.scores.max().max() <= 100 + 1e-9
