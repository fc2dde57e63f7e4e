"""Build the two reference workbooks of the China City AI Development Index 2020.

    python workbooks/build_workbooks.py [--out DIR] [--seed DIR]

writes ``city_ai_index_2020.xlsx`` (Settings ``input`` = ``given``: the published first-level
scores, aggregated with the inferred weights, reproduce the printed totals) and
``city_ai_index_2020_data.xlsx`` (``input`` = ``data``: an ILLUSTRATIVE SYNTHETIC raw data set run
through the whole 5/12/20 tree) from ``workbooks/seed/framework.csv`` and
``workbooks/seed/published_scores_2020.csv``. The inputs are written first to a temporary folder,
then ``recalc`` fills the result sheets into the final path. Deterministic: a seeded random
generator, fixed creation dates.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout: make xl_aiindex importable
    sys.path.insert(0, str(ROOT))

from xl_aiindex.model import Node  # noqa: E402
from xl_aiindex.workbook.new_book import write_workbook  # noqa: E402
from xl_aiindex.workbook.ownership import tool_sheets_readme  # noqa: E402

SEED_DIR = ROOT / "workbooks" / "seed"
OUT_DIR = ROOT / "workbooks"
GIVEN_WORKBOOK = "city_ai_index_2020.xlsx"
DATA_WORKBOOK = "city_ai_index_2020_data.xlsx"
#: The report's date: the workbooks' creation date (fixed, so builds are byte-for-byte stable).
CREATED = datetime(2020, 7, 1)
#: Seed of the illustrative data set (change it and the data change; keep it and they never do).
DATA_SEED = 20200701

ROOT_ID = "index"
SOURCE = "36氪研究院《中国城市人工智能发展指数报告》(2020.07) 表 3.1.2.1 / 36Kr Research, table 3.1.2.1"

#: First-level weights, fitted by least squares to the published table (sum 1).
FIRST_LEVEL_WEIGHTS = {"environment": 0.15, "funding": 0.20, "rnd": 0.25,
                       "infrastructure": 0.20, "outcomes": 0.20}
INFERRED_NOTE = ("权重由公布的一级指数与总指数最小二乘推断 / weight inferred by least squares from "
                 "the published table")
ILLUSTRATIVE_NOTE = ("示意权重：同级等权，报告未公布权重 / illustrative weight: equal shares within "
                     "the group; the report publishes none")

#: The 30 published cities in published rank order: id, region, population (万人, approx. 2019).
CITIES: tuple[tuple[str, str, str, int], ...] = (
    ("beijing", "北京", "华北", 2154),
    ("shanghai", "上海", "华东", 2428),
    ("shenzhen", "深圳", "华南", 1344),
    ("hangzhou", "杭州", "华东", 1036),
    ("nanjing", "南京", "华东", 850),
    ("guangzhou", "广州", "华南", 1531),
    ("suzhou", "苏州", "华东", 1075),
    ("hefei", "合肥", "华东", 819),
    ("chengdu", "成都", "西南", 1658),
    ("tianjin", "天津", "华北", 1562),
    ("jinan", "济南", "华东", 891),
    ("xian", "西安", "西北", 1020),
    ("chongqing", "重庆", "西南", 3124),
    ("qingdao", "青岛", "华东", 950),
    ("changsha", "长沙", "华中", 839),
    ("wuhan", "武汉", "华中", 1121),
    ("shenyang", "沈阳", "东北", 832),
    ("xiamen", "厦门", "华东", 429),
    ("dalian", "大连", "东北", 700),
    ("fuzhou", "福州", "华东", 780),
    ("zhengzhou", "郑州", "华中", 1035),
    ("shijiazhuang", "石家庄", "华北", 1103),
    ("lanzhou", "兰州", "西北", 379),
    ("nanning", "南宁", "华南", 734),
    ("nanchang", "南昌", "华东", 560),
    ("yinchuan", "银川", "西北", 229),
    ("kunming", "昆明", "西南", 695),
    ("taiyuan", "太原", "华北", 446),
    ("haikou", "海口", "华南", 233),
    ("changchun", "长春", "东北", 751),
)

#: Per indicator: unit, plausible low and high across the 30 cities, scale, decimals.
#: ``log`` spreads values geometrically (counts and amounts are skewed), ``lin`` linearly.
INDICATORS: dict[str, tuple[str, float, float, str, int]] = {
    "I01": ("项", 5, 120, "log", 0),          # AI policies
    "I02": ("%", 4.5, 8.5, "lin", 1),         # GDP growth
    "I03": ("场", 1, 60, "log", 0),           # major AI summits
    "I04": ("亿元", 10, 1500, "log", 1),       # government guidance fund size
    "I05": ("个", 1, 40, "log", 0),           # government guidance funds
    "I06": ("亿元", 5, 2500, "log", 1),        # VC/PE deal amount
    "I07": ("起", 5, 1500, "log", 0),         # VC/PE deals
    "I08": ("人", 2000, 200000, "log", 0),    # AI talent
    "I09": ("人", 1, 400, "log", 0),          # outstanding AI scholars
    "I10": ("所", 1, 40, "log", 0),           # universities with an AI major
    "I11": ("篇", 300, 30000, "log", 0),      # AI papers
    "I12": ("件", 300, 40000, "log", 0),      # AI patent applications
    "I13": ("个", 30, 600, "log", 0),         # incubators and maker spaces
    "I14": ("个", 1, 8, "log", 0),            # national AI open platforms
    "I15": ("个", 1, 30, "log", 0),           # computing infrastructure facilities
    "I16": ("个", 1, 5, "lin", 0),            # open data platforms
    "I17": ("家", 1, 200, "log", 0),          # large AI companies
    "I18": ("家", 1, 150, "log", 0),          # firms across the three value-chain layers
    "I19": ("个", 5, 300, "log", 0),          # applied AI scenarios
    "I20": ("%", 0.05, 2.5, "log", 2),        # listed AI firms' profit / GDP
}
#: How strongly each indicator follows its dimension's published score (the rest is noise).
DATA_LOADING = 0.85

DATA_NOTE = ("示意性合成数据（ILLUSTRATIVE SYNTHETIC DATA）：由 workbooks/build_workbooks.py 以固定种子"
             "随机生成，与各城市所属一级维度的公布得分松散相关；不是报告的数据（报告未公布原始数据）。"
             " / Generated by workbooks/build_workbooks.py (seeded random numbers loosely correlated "
             "with each city's published score of the indicator's dimension); NOT the report's data, "
             "which was never published.")
POPULATION_NOTE = ("常住人口，万人，2019 年近似值（仅供示意）/ resident population, 10k persons, "
                   "approximate 2019 figure (for illustration)")
REGION_NOTE = "地理大区 / geographic region of China"


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def framework_nodes(seed_dir: Path = SEED_DIR) -> tuple[Node, ...]:
    """The 5/12/20 tree, root first, then level by level, siblings in the report's order."""
    rows = _read_csv(seed_dir / "framework.csv")
    level1: dict[str, tuple[str, str]] = {}
    level2: dict[str, tuple[str, str, str]] = {}
    leaves: dict[str, tuple[str, str, str]] = {}
    for row in rows:
        level1.setdefault(row["level1_id"], (row["level1_zh"], row["level1_en"]))
        level2.setdefault(row["level2_id"], (row["level1_id"], row["level2_zh"], row["level2_en"]))
        leaves[row["indicator_id"]] = (row["level2_id"], row["indicator_zh"], row["indicator_en"])
    if list(level1) != list(FIRST_LEVEL_WEIGHTS) or set(leaves) != set(INDICATORS):
        raise ValueError(f"{seed_dir / 'framework.csv'} is not the 5/12/20 tree this script knows")

    def equal_share(parent: str, table: Mapping[str, tuple[str, ...]]) -> float:
        return 1 / sum(1 for v in table.values() if v[0] == parent)

    nodes = [Node(ROOT_ID, None, "中国城市人工智能发展指数", "China City AI Development Index",
                  source=SOURCE, note="总指数 = 一级指数加权和 / total = weighted sum of the five "
                                      "first-level indices")]
    for node_id, (zh, en) in level1.items():
        nodes.append(Node(node_id, ROOT_ID, zh, en, weight=FIRST_LEVEL_WEIGHTS[node_id],
                          source=SOURCE, note=INFERRED_NOTE))
    for node_id, (parent, zh, en) in level2.items():
        nodes.append(Node(node_id, parent, zh, en, weight=equal_share(parent, level2),
                          source=SOURCE, note=ILLUSTRATIVE_NOTE))
    for node_id, (parent, zh, en) in leaves.items():
        nodes.append(Node(node_id, parent, zh, en, weight=equal_share(parent, leaves), direction=1,
                          unit=INDICATORS[node_id][0], source=SOURCE,
                          note=ILLUSTRATIVE_NOTE + "；方向 1：越大越好 / direction 1: higher is better"))
    return tuple(nodes)


def published_table(seed_dir: Path = SEED_DIR) -> pd.DataFrame:
    """The report's appendix table, indexed by city id (published rank order)."""
    table = pd.read_csv(seed_dir / "published_scores_2020.csv", dtype={"city": str, "city_en": str},
                        keep_default_na=False)
    ids = {zh: uid for uid, zh, _region, _pop in CITIES}
    missing = sorted(set(table["city"]) - set(ids))
    if missing or len(table) != len(CITIES):
        raise ValueError(f"published table does not list the 30 known cities (unknown: {missing})")
    table.index = pd.Index([ids[c] for c in table["city"]], dtype=object, name="unit")
    return table


def units_table(published: pd.DataFrame) -> pd.DataFrame:
    """Units: the 30 cities with their names, region (text) and approximate population."""
    by_id = {uid: (zh, region, pop) for uid, zh, region, pop in CITIES}
    return pd.DataFrame({
        "name_zh": [by_id[u][0] for u in published.index],
        "name_en": list(published["city_en"]),
        "region": [by_id[u][1] for u in published.index],
        "population": [float(by_id[u][2]) for u in published.index],
    }, index=pd.Index(list(published.index), dtype=object, name="unit"))


def given_table(published: pd.DataFrame) -> pd.DataFrame:
    """Given: the five published first-level scores and the printed total (``published``)."""
    given = published[list(FIRST_LEVEL_WEIGHTS)].astype(float).copy()
    given["published"] = published["total"].astype(float)
    return given


def synthetic_data(nodes: Sequence[Node], given: pd.DataFrame, seed: int = DATA_SEED) -> pd.DataFrame:
    """ILLUSTRATIVE SYNTHETIC raw values of the 20 indicators (never the report's data).

    Each indicator follows its dimension's published score (standardised) with loading
    :data:`DATA_LOADING` plus Gaussian noise, mapped onto the indicator's plausible range;
    every value is positive, none is blank. Same seed, same numbers.
    """
    by_id = {n.id: n for n in nodes}
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for leaf in INDICATORS:
        dimension = leaf
        while by_id[dimension].parent != ROOT_ID:
            dimension = str(by_id[dimension].parent)
        score = given[dimension].to_numpy(dtype=float)
        z = (score - score.mean()) / score.std(ddof=1)
        latent = DATA_LOADING * z + np.sqrt(1 - DATA_LOADING**2) * rng.standard_normal(len(z))
        u = (latent - latent.min()) / (latent.max() - latent.min())
        _unit, low, high, scale, decimals = INDICATORS[leaf]
        values = low * (high / low) ** u if scale == "log" else low + (high - low) * u
        values = np.round(values, decimals)
        out[leaf] = np.maximum(values, low)
    return pd.DataFrame(out, index=pd.Index(list(given.index), dtype=object, name="unit"))


def settings_for(mode: str) -> dict[str, object]:
    """Settings of the given workbook (``mode`` = ``given``) or of the data workbook (``data``)."""
    return {
        "name_zh": "中国城市人工智能发展指数 2020",
        "name_en": "China City AI Development Index 2020",
        "input": mode,
        "normalisation": "minmax" if mode == "given" else "efficacy",
        "minmax_range": "0,100",
        "efficacy_a": 60,
        "efficacy_b": 40,
        "aggregation": "arithmetic",
        "weights": "strict",
        "tiers": "rank:10,20",
        "tier_labels": "第一梯队;第二梯队;第三梯队",
        "rank_decimals": None,
        "outliers": "none",
        "outlier_skew": 2,
        "outlier_kurtosis": 3.5,
        "outlier_max_points": 5,
        "coverage_min": 0,
        "goalposts_scale": 100,
        "missing": "error",
        "output": "values",
        "chart_top": 15,
        "compare": "北京/上海;深圳/广州;杭州/南京;成都/西安",
    }


def readme_rows(mode: str, file_name: str) -> list[tuple[str, str]]:
    """The README sheet: (English, Chinese) rows."""
    if mode == "given":
        title = ("China City AI Development Index 2020 - reference workbook (input = given)",
                 "中国城市人工智能发展指数 2020 —— 参考工作簿（input = given）")
        this = ("This workbook starts from the published first-level scores (Given sheet) and "
                "aggregates them with the inferred weights. The Data sheet (illustrative) is not "
                "used while input = given; city_ai_index_2020_data.xlsx runs it through the whole tree.",
                "本工作簿从公布的一级指数（Given 表）出发，按推断权重加权合成。input = given 时不使用 "
                "Data 表（示意数据）；city_ai_index_2020_data.xlsx 用它计算整棵指标树。")
    else:
        title = ("China City AI Development Index 2020 - illustrative data workbook (input = data)",
                 "中国城市人工智能发展指数 2020 —— 示意数据工作簿（input = data）")
        this = ("This workbook computes every level from the ILLUSTRATIVE SYNTHETIC raw data of the "
                "Data sheet with efficacy normalisation (60 + 40·(x−min)/(max−min), scores on the "
                "report's 50–100 scale). Its ranking resembles the published one but is NOT it: "
                "use it to try methods, formula mode, sensitivity and explain below the first level.",
                "本工作簿以功效系数法（60 + 40·(x−min)/(max−min)，与报告 50–100 分的量纲相当）由 Data 表的"
                "示意性合成数据计算各级得分。其排名与公布排名相似，但并非公布结果：用于试验方法、公式模式、"
                "敏感性分析及一级以下的解释。")
    return [
        title,
        ("Rebuilds the index of the report 中国城市人工智能发展指数报告 (36Kr Research, July 2020): "
         "the top 30 of the 36 cities studied, a 5/12/20 indicator tree (5 dimensions, 12 "
         "sub-dimensions, 20 indicators; the report's table 3.1.2.1).",
         "重建 36氪研究院《中国城市人工智能发展指数报告》（2020 年 7 月）的指数：所研究 36 座城市中公布的"
         "前 30 座，5/12/20 指标体系（5 个一级指标、12 个二级指标、20 个三级指标；报告表 3.1.2.1）。"),
        this,
        ("With input = given the computed totals reproduce the printed totals (Given column "
         "'published'; Ranking shows both and their difference) within 0.01, the rounding of the "
         "published values.",
         "input = given 时计算的总指数与报告公布的总指数（Given 表 published 列；Ranking 表并列显示"
         "及差值）一致，误差不超过 0.01（公布值的四舍五入）。") if mode == "given" else
        ("Given holds the published first-level scores but not the printed totals: set beside "
         "scores computed from synthetic data, a 'published' column and its difference would "
         "mislead. city_ai_index_2020.xlsx compares computed and printed totals.",
         "Given 表含公布的一级指数，但不含公布的总指数：与合成数据算出的得分并列比较会产生误导。"
         "city_ai_index_2020.xlsx 对比计算值与公布的总指数。"),
        ("PUBLISHED (report appendix): the five first-level scores and the total of each city; the "
         "tiers (ranks 1-10 tier 1, 11-20 tier 2, the rest tier 3).",
         "已公布（报告附录）：各城市五个一级指数及总指数；梯队划分（第 1–10 名第一梯队，11–20 名"
         "第二梯队，其余第三梯队）。"),
        ("INFERRED: the first-level weights environment 0.15, funding 0.20, R&D 0.25, "
         "infrastructure 0.20, outcomes 0.20, fitted by least squares to the published table (the "
         "report says only that weights were set by expert evaluation).",
         "推断：一级权重（城市发展环境 0.15、资金支持力度 0.20、研发能力 0.25、基础支持情况 0.20、"
         "发展成效 0.20）由公布数据最小二乘拟合得到（报告仅称权重由专家评价确定）。"),
        ("ILLUSTRATIVE: the second- and third-level weights (equal shares within each group) and "
         "the raw data of the Data sheet (SYNTHETIC: seeded random numbers loosely correlated with "
         "the published dimension scores). The report publishes neither: never cite them as its data.",
         "示意：二、三级权重（同级等权）及 Data 表的原始数据（合成数据：以固定种子随机生成，与公布的"
         "一级指数松散相关）。报告均未公布，切勿作为报告数据引用。"),
        (f"How to use: edit the input sheets (Settings, Framework, Units, Data, Given), then run "
         f"`xl-aiindex recalc workbooks/{file_name}`: it rewrites Scores, Ranking, Tiers, "
         "WeightsUsed, Charts (TOP-15 charts), Compare (the Settings compare pairs) and Problems "
         "and appends to Log. Input sheets are never rewritten.",
         f"使用方法：修改输入表（Settings、Framework、Units、Data、Given）后运行 "
         f"`xl-aiindex recalc workbooks/{file_name}`：重写 Scores、Ranking、Tiers、WeightsUsed、"
         "Charts（TOP 15 图表）、Compare（Settings compare 所列城市对比）、Problems 表并追加 Log。"
         "输入表不会被改写。"),
        tool_sheets_readme(),
        ('In Excel (xlwings add-in): =AI_INDEX("北京") the total, =AI_RANK("Shanghai") the rank, '
         '=AI_TIER("郑州") the tier, =AI_SUBINDEX("北京","rnd") the score of a node. A city may be '
         "given by id, Chinese or English name.",
         'Excel 中（xlwings 加载项）：=AI_INDEX("北京") 总指数，=AI_RANK("Shanghai") 排名，'
         '=AI_TIER("郑州") 梯队，=AI_SUBINDEX("北京","rnd") 某节点得分。城市可用编号、中文名或英文名。'),
        ("Framework: the column sibling_sum is a helper (ignored by xl-aiindex): the weight sum of "
         "each sibling group, red when it is not 1.",
         "Framework 表的 sibling_sum 列为辅助列（程序不读取）：同级权重之和，不为 1 时标红。"),
        ("Report typo: section 3.2.1 gives Nanjing 77.74; the appendix (and the weights) give "
         "79.55, used here (77.74 is Guangzhou's total).",
         "报告笔误：3.2.1 节称南京 77.74；附录（及权重）为 79.55，本工作簿采用后者（77.74 为广州的"
         "总指数）。"),
        ("Units: population is an approximate 2019 resident population (10k persons), for "
         "illustration (e.g. as a denominator); region is a grouping.",
         "Units 表：population 为 2019 年常住人口近似值（万人），仅供示意（如作分母）；region 为分组。"),
        ("DATA NOTE: " + DATA_NOTE, "数据说明：" + DATA_NOTE),
    ]


def write_inputs(out_dir: Path, seed_dir: Path = SEED_DIR) -> tuple[Path, Path]:
    """Write both workbooks with their input sheets only (result sheets: header rows) into
    ``out_dir``; return (given workbook, data workbook)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    nodes = framework_nodes(seed_dir)
    published = published_table(seed_dir)
    units = units_table(published)
    given = given_table(published)
    data = synthetic_data(nodes, given)
    notes = {
        "Units": {"population": POPULATION_NOTE, "region": REGION_NOTE},
        "Given": {c: "报告附录公布值 / published in the report's appendix" for c in given.columns},
    }
    paths = []
    for mode, name in (("given", GIVEN_WORKBOOK), ("data", DATA_WORKBOOK)):
        path = out_dir / name
        # the data workbook's scores come from synthetic data: set beside the printed totals,
        # a `published`/`diff` column would read as an error of the method, so it has none
        write_workbook(path, nodes=nodes, units=units, settings=settings_for(mode), data=data,
                       given=given if mode == "given" else given.drop(columns="published"),
                       readme=readme_rows(mode, name), data_note=DATA_NOTE,
                       created=CREATED, column_notes=notes,
                       uncertainty=UNCERTAINTY if mode == "data" else ())
        paths.append(path)
    return paths[0], paths[1]


#: What `xl-aiindex uncertainty` varies in the data workbook (an example to edit).
UNCERTAINTY = (
    ("weights", "uniform", 0.25, "每个权重在 ±25% 内变动，组内重新归一 / each weight within ±25%, "
                                 "rescaled per sibling group"),
    ("normalisation", "choice", "efficacy;minmax;rank", "标准化方法三选一 / one of three methods"),
    ("indicators", "leave_one_out", None, "每次去掉一个指标（或不去）/ no indicator or one left out"),
)


def build(out_dir: Path = OUT_DIR, seed_dir: Path = SEED_DIR) -> tuple[Path, Path]:
    """Write the inputs to a temporary folder, then recalc each into ``out_dir``; also write
    the macro-enabled variant of the given-mode workbook (``.xlsm``) for the Excel add-in."""
    from xl_aiindex.workbook.io import recalc_file
    from xl_aiindex.workbook.xlsm import build_excel

    # the Log row's time: the report's month, so that rebuilding gives identical files
    os.environ.setdefault("SOURCE_DATE_EPOCH", str(int(CREATED.replace(tzinfo=UTC).timestamp())))
    out_dir.mkdir(parents=True, exist_ok=True)
    finals = []
    with tempfile.TemporaryDirectory(prefix="xl-aiindex-build-") as tmp:
        for src in write_inputs(Path(tmp), seed_dir):
            dst = out_dir / src.name
            # no Log row: the shipped Log starts with the user's first run
            recalc_file(src, dst, log=False)
            finals.append(dst)
    # the macro-enabled workbook, by the function `xl-aiindex excel` calls; no Log row, as above
    xlsm = finals[0].with_suffix(".xlsm")
    build_excel(finals[0], xlsm, force=True, log=False)
    return finals[0], finals[1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: workbooks/)")
    parser.add_argument("--seed", type=Path, default=SEED_DIR, help="seed CSV folder")
    args = parser.parse_args(argv)
    for path in build(args.out, args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
