"""The statistical audit: statistics against numpy/pandas/scipy, alpha by hand, each flag on a
constructed case, the Audit sheet and the command's exact output."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import REPO, run, write_book
from scipy import stats

from xl_aiindex import IndexModel, Node, Settings, build_index
from xl_aiindex.audit import (
    COLUMNS,
    audit,
    correlation,
    cronbach_alpha,
    effective_importance,
    indicator_stats,
    pc1_share,
)


@pytest.fixture
def random_frame() -> pd.DataFrame:
    rng = np.random.default_rng(15)
    x = pd.DataFrame({"a": rng.lognormal(size=40), "b": rng.normal(size=40),
                      "c": rng.exponential(size=40) * 7 - 3}, index=[f"u{i}" for i in range(40)])
    x.loc[["u3", "u17"], "a"] = np.nan
    x.loc["u9", "c"] = np.nan
    return x


def test_indicator_stats_equal_numpy_and_scipy(random_frame):
    table = indicator_stats(random_frame, Settings())
    for col in random_frame.columns:
        v = random_frame[col].to_numpy()
        present = v[~np.isnan(v)]
        assert table.at[col, "n"] == present.size
        assert table.at[col, "missing"] == np.isnan(v).sum()
        assert table.at[col, "min"] == np.nanmin(v)
        assert table.at[col, "max"] == np.nanmax(v)
        assert table.at[col, "mean"] == pytest.approx(np.nanmean(v), rel=1e-12)
        assert table.at[col, "sd"] == pytest.approx(np.nanstd(v, ddof=1), rel=1e-12)
        # Excel's SKEW and KURT: the bias-corrected sample skewness and excess kurtosis
        assert table.at[col, "skewness"] == pytest.approx(stats.skew(present, bias=False), rel=1e-10)
        assert table.at[col, "kurtosis"] == pytest.approx(
            stats.kurtosis(present, fisher=True, bias=False), rel=1e-10)
    assert table["missing"].tolist() == [2, 0, 1]


def test_correlation_and_first_component_equal_numpy(random_frame):
    both = random_frame[["a", "c"]].dropna()
    assert correlation(random_frame["a"], random_frame["c"]) == pytest.approx(
        np.corrcoef(both["a"], both["c"])[0, 1], rel=1e-12)
    assert correlation(random_frame["a"], random_frame["c"]) == pytest.approx(
        stats.pearsonr(both["a"], both["c"]).statistic, rel=1e-12)
    full = random_frame.dropna().to_numpy()
    z = (full - full.mean(axis=0)) / full.std(axis=0, ddof=1)
    s = np.linalg.svd(z, compute_uv=False)      # PCA of the standardised data, another way
    assert pc1_share(random_frame) == pytest.approx(s[0] ** 2 / (s**2).sum(), rel=1e-12)


def test_cronbach_alpha_by_hand():
    # variances 5/3, 2/3, 8/3 (sum 5); row sums 6, 12, 10, 14 have variance 35/3:
    # alpha = 3/2 · (1 − 5/(35/3)) = 6/7
    table = pd.DataFrame({"x": [2.0, 4, 3, 5], "y": [3.0, 5, 4, 4], "z": [1.0, 3, 3, 5]})
    assert cronbach_alpha(table) == pytest.approx(6 / 7, rel=1e-14)
    # two items 1,2,3,4 and 1,3,2,4: variances 5/3 each, sums 2,5,5,8 variance 6: 2·(1 − 10/18)
    assert cronbach_alpha(pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [1.0, 3, 2, 4]})) == \
        pytest.approx(8 / 9, rel=1e-14)
    # a row with a blank is left out
    table.loc[4] = [np.nan, 100.0, 100.0]
    assert cronbach_alpha(table) == pytest.approx(6 / 7, rel=1e-14)
    assert np.isnan(cronbach_alpha(table[["x"]]))


def test_effective_importance_is_normalised_squared_correlation(random_frame):
    total = random_frame.mean(axis=1)
    imp = effective_importance(random_frame, total)
    r2 = [random_frame[c].corr(total) ** 2 for c in random_frame.columns]
    assert imp.tolist() == pytest.approx([v / sum(r2) for v in r2], rel=1e-12)
    assert imp.sum() == pytest.approx(1.0)


def _flag_model(outliers: str = "none") -> IndexModel:
    """g1: x1 and its near-copy x2; g2: x3 mirrors x4 (weight 0.1 vs 0.9), so x3 runs against
    its parent; x5 (alone in g3) has one far outlier."""
    rng = np.random.default_rng(3)
    n = 30
    base = rng.normal(50, 10, n)
    x4 = 25 + 0.5 * base + rng.normal(0, 6, n)       # related to g1, far from a duplicate
    x5 = 5 + 0.1 * base + rng.normal(0, 1, n)
    x5[0] = 200.0
    data = pd.DataFrame({"x1": base, "x2": base + rng.normal(0, 0.5, n), "x3": 100 - x4,
                         "x4": x4, "x5": x5}, index=[f"u{i}" for i in range(n)])
    nodes = (Node("index", None), Node("g1", "index", weight=0.4), Node("g2", "index", weight=0.4),
             Node("g3", "index", weight=0.2),
             Node("x1", "g1", weight=0.5), Node("x2", "g1", weight=0.5),
             Node("x3", "g2", weight=0.1), Node("x4", "g2", weight=0.9), Node("x5", "g3", weight=1.0))
    units = pd.DataFrame({"name_zh": data.index, "name_en": data.index}, index=data.index)
    return IndexModel(nodes, Settings(outliers=outliers), units, data)


def test_each_flag_fires_on_its_constructed_case():
    result = build_index(_flag_model())
    report = audit(result)
    t = report.table.set_index("node")
    assert t.loc["x3", "r_parent"] < 0
    assert "negative correlation with its parent g2" in t.loc["x3", "flags"]
    assert "near-duplicate pair with x2" in t.loc["x1", "flags"]
    assert "negative pair with x4" in t.loc["x3", "flags"]
    assert t.loc["x5", "needs_treatment"]
    assert t.loc["x5", "flags"].startswith("skewed: |skewness|")
    assert not t.loc["x4", "needs_treatment"]
    assert report.pairs[["node", "a", "b", "flag"]].values.tolist() == [
        ["g1", "x1", "x2", "near-duplicate"], ["g2", "x3", "x4", "negative"]]
    assert [w.split(" ")[0] for w in report.warnings] == ["x5", "x3", "x3", "x1", "x3"]
    # x5 is ~10 for every unit but u0's 200: beyond Q3 + 3·IQR (about 18), named with its value
    assert ", far out: u0 200 (not treated" in report.warnings[0]
    assert "correlates negatively with the total" in report.warnings[2]
    assert "negative correlation with the total" in t.loc["x3", "flags"]
    assert report.warnings[0].endswith("(not treated: outliers = none)")
    # the same data, treated: the flag says so
    assert audit(build_index(_flag_model("skew_kurtosis"))).warnings[0].endswith("(treated)")


def test_nothing_fires_on_a_coherent_index():
    nodes = (Node("index", None), Node("a", "index", weight=0.5), Node("b", "index", weight=0.5))
    rng = np.random.default_rng(1)
    common = rng.normal(size=20)
    data = pd.DataFrame({"a": common + rng.normal(size=20), "b": common + rng.normal(size=20)},
                        index=[f"u{i}" for i in range(20)])
    units = pd.DataFrame({"name_zh": data.index, "name_en": data.index}, index=data.index)
    report = audit(build_index(IndexModel(nodes, Settings(), units, data)))
    assert report.warnings == ()
    assert report.table["flags"].tolist() == ["", ""]


def test_audit_table_lines_up_with_the_result():
    result = build_index(_flag_model())
    table = audit(result).table
    assert tuple(table.columns) == COLUMNS
    assert table["node"].tolist() == ["g1", "x1", "x2", "g2", "x3", "x4", "g3", "x5"]
    assert table["indicator"].tolist() == [False, True, True, False, True, True, False, True]
    ind = table[table["indicator"]]
    assert ind["importance"].sum() == pytest.approx(1.0)
    assert ind["weight_in_total"].tolist() == pytest.approx([0.2, 0.2, 0.04, 0.36, 0.2])
    assert table.loc[table["node"] == "x1", "r_total"].item() == pytest.approx(
        np.corrcoef(result.scores["x1"], result.total)[0, 1])


def test_audit_command_exact_output_and_sheet(tmp_path, small):
    book = write_book(tmp_path / "s.xlsx", small)
    out = tmp_path / "out.xlsx"
    r = run("audit", book, "-o", out)
    assert r.exit_code == 0, r.output
    assert r.output == (
        f"Audit of {book}: 4 indicators (Data, as prepared for treatment), 5 units\n"
        f"Wrote Audit to {out}\n"
        "\n"
        "2 warnings:\n"
        "  d1 (维度一) and d2 (维度二) (siblings under index) are near-duplicates (r = 0.94 > 0.92)\n"
        "  x1 (指标一) and x2 (指标二) (siblings under d1) are near-duplicates (r = 1.00 > 0.92)\n"
        "\n"
        "index (总指数): 2 children, Cronbach's alpha 0.97, first component 97% of the variance (5 units)\n"
        "  node  r parent  r total  weight\n"
        "  d1        0.99     0.99   0.600\n"
        "  d2        0.98     0.98   0.400\n"
        "\n"
        "d1 (维度一): 2 children, Cronbach's alpha 1.00, first component 100% of the variance (5 units)\n"
        "  node  miss    min    max   mean     sd  skew   kurt  r parent  r total  weight  importance\n"
        "  x1       0  10.00  50.00  30.00  15.81  0.00  -1.20      1.00     0.99   0.300       0.255\n"
        "  x2       0   1.00   5.00   3.00   1.58  0.00  -1.20      1.00     0.99   0.300       0.255\n"
        "\n"
        "d2 (维度二): 2 children, Cronbach's alpha 0.95, first component 95% of the variance (5 units)\n"
        "  node  miss     min     max    mean      sd  skew   kurt  r parent  r total  weight  importance\n"
        "  x3       0    1.00    5.00    3.00    1.58  0.00  -1.20      0.94     0.99   0.100       0.255\n"
        "  x4       0  100.00  500.00  300.00  158.11  0.00  -1.20      0.99     0.95   0.300       0.235\n")
    rows = list(openpyxl.load_workbook(out)["Audit"].iter_rows(values_only=True))
    assert rows[0] == COLUMNS
    assert [r[0] for r in rows[1:]] == ["d1", "x1", "x2", "d2", "x3", "x4"]
    x1 = dict(zip(COLUMNS, rows[2], strict=True))
    assert (x1["n"], x1["missing"], x1["min"], x1["max"], x1["mean"]) == (5, 0, 10, 50, 30)
    assert x1["needs_treatment"] == "no" and x1["flags"] == "near-duplicate pair with x2 (1.00)"
    assert "Audit" not in openpyxl.load_workbook(book).sheetnames   # -o: the input untouched


def test_audit_no_sheet_writes_nothing(small_book):
    before = small_book.read_bytes()
    r = run("audit", small_book, "--no-sheet")
    assert r.exit_code == 0 and "Wrote" not in r.output
    assert small_book.read_bytes() == before


def test_audit_in_given_mode_audits_the_given_scores():
    r = run("audit", REPO / "workbooks" / "city_ai_index_2020.xlsx", "--no-sheet")
    assert r.exit_code == 0
    assert r.output.splitlines()[0].endswith(
        "input = given: the Given scores of environment, funding, rnd, infrastructure, outcomes "
        "are audited as the indicators (nothing below them has data), 30 units")


def test_audit_of_a_bad_workbook_lists_its_problems(tmp_path, small):
    small["Data"][2][2] = "abc"
    r = run("audit", write_book(tmp_path / "b.xlsx", small))
    assert r.exit_code == 1
    assert r.output == ("1 problem found:\nSheet 'Data', cell C3: unit b, indicator x2: text "
                        "'abc' is not a number\n")
