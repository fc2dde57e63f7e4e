"""What a new workbook's input sheets say: the bilingual header comments, the Settings sheet's
notes and defaults, and the Framework's drop-down lists (built from the method registries, so
code and lists never disagree)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields

from ...aggregate import AGGREGATORS
from ...model import Settings
from ...normalise import NORMALISERS
from ...settings import KNOWN_KEYS
from ...weights import WEIGHTINGS

#: The helper column after the Framework's contract columns (every command ignores it).
SIBLING_SUM = "sibling_sum"
#: Values of the Framework's ``transform`` column.
TRANSFORMS = ("log",)


def method_names(registry: Mapping[str, object] | Sequence[str]) -> list[str]:
    """The names of a method registry, sorted (what drop-downs and messages list)."""
    return sorted(registry)


#: Drop-down lists of the Framework, built from the registries (code and lists never disagree).
FRAMEWORK_LISTS: dict[str, list[str]] = {
    "direction": ["1", "-1", "正向", "负向"],
    "normalisation": method_names(NORMALISERS),
    "aggregation": method_names(AGGREGATORS),
    "weighting": method_names(WEIGHTINGS),
    "transform": list(TRANSFORMS),
}


def _defaults() -> dict[str, object]:
    """The contract's default of every Settings key, as the Settings sheet shows it."""
    s = Settings()
    out: dict[str, object] = {}
    for f in fields(s):
        out[f.name] = getattr(s, f.name)
    low, high = s.minmax_range
    out["minmax_range"] = f"{low:g},{high:g}"
    out["tiers"] = f"{s.tiers.kind}:{','.join(f'{b:g}' for b in s.tiers.bounds)}"
    out["tier_labels"] = ";".join(s.tiers.labels) or None
    for k in ("name_zh", "name_en"):
        out[k] = out[k] or None
    out["compare"] = None
    out["unit_label"] = None
    out["missing_markers"] = ";".join(s.missing_markers)
    return {k: out.get(k) for k in KNOWN_KEYS}


#: Default value of every Settings key (blank = None).
SETTING_DEFAULTS: dict[str, object] = _defaults()

#: The Settings sheet's ``note`` column: what each key means, in Chinese and English.
SETTING_NOTES: dict[str, str] = {
    "unit_label": "单位的称呼，用于提示、报告和 Examples 表，如 省份 或 省份/province；留空 = 城市 / "
                  "what a unit is called in messages, the report and the Examples sheet, e.g. "
                  "省份 or 省份/province; blank = city",
    "missing_markers": "读作缺失值的文字（会注明单元格），以 ; 分隔 / texts of a Data cell read as "
                       "a missing value (with a note naming the cells), separated by ';'",
    "chart_top": "TOP-N 条形图显示的单位个数（0 = 不画图）/ how many units the TOP-N charts of the "
                 "Charts sheet show (0 = no charts)",
    "compare": "并列比较的单位对，如 北京/上海;深圳/广州（编号或名称）/ unit pairs compared side by "
               "side on the Compare sheet, a/b;c/d (ids or names)",
    "name_zh": "指数的中文名称 / name of the index in Chinese",
    "name_en": "指数的英文名称 / name of the index in English",
    "input": "data = 由 Data 表原始数据计算；given = 从 Given 表给定得分开始 / "
             "data: compute from the Data sheet; given: start from the Given sheet's scores",
    "normalisation": "指标的默认标准化方法（Framework 可逐个指定）/ default normalisation of indicators "
                     "(a Framework row may override it): " + ", ".join(method_names(NORMALISERS)),
    "minmax_range": "minmax 的输出区间 low,high / output range of minmax, low,high (e.g. 0,100)",
    "efficacy_a": "功效系数法 a + b·(x−min)/(max−min) 中的 a / a of efficacy: a + b·(x−min)/(max−min)",
    "efficacy_b": "功效系数法中的 b / b of efficacy (60 + 40 gives scores from 60 to 100)",
    "aggregation": "上级节点的默认合成方法 / default aggregation of inner nodes: "
                   + ", ".join(method_names(AGGREGATORS)) + " (copeland: root only)",
    "weights": "strict = 同级权重之和不为 1 即报错；rescale = 自动按比例调整并注明 / "
               "strict: sibling weights not summing to 1 is a problem; rescale: rescaled, with a note",
    "tiers": "梯队划分：rank:10,20（按名次）或 score:80,70,55（按得分下限，从高到低）/ "
             "tiers: rank:10,20 (last rank of each tier but the last) or score:80,70,55 (lower bounds)",
    "tier_labels": "各梯队名称，从优到劣，以 ; 分隔，个数须与梯队数一致 / one label per tier, best first, "
                   "separated by ';'",
    "rank_decimals": "排名前按此位数四舍五入（同 Excel ROUND）；留空 = 不取整 / rank on scores rounded "
                     "to this many decimals (as Excel's ROUND); blank = unrounded",
    "outliers": "异常值处理：none、skew_kurtosis 或 winsorise:P / outlier treatment: none, "
                "skew_kurtosis or winsorise:P",
    "outlier_skew": "skew_kurtosis 的偏度阈值 / skewness threshold of skew_kurtosis",
    "outlier_kurtosis": "skew_kurtosis 的峰度阈值 / kurtosis threshold of skew_kurtosis",
    "outlier_max_points": "skew_kurtosis 最多缩尾的点数 / at most this many points winsorised by "
                          "skew_kurtosis",
    "coverage_min": "参与排名所需的指标覆盖率下限（0–1）/ share of a unit's indicators that must be "
                    "present for it to be ranked (0–1)",
    "goalposts_scale": "goalposts 输出的上限（下限为 0）/ upper end of the goalposts output (lower end 0)",
    "missing": "缺失值：error（列出并停止）、reweight、mean、median、group_mean:列、group_median:列 / "
               "missing values: error (list them and stop), reweight, mean, median, "
               "group_mean:COLUMN, group_median:COLUMN",
    "output": "values = 写入数值；formulas = 写入带缓存值的公式 / values: write numbers; "
              "formulas: live formulas with cached values",
}

#: Header comments of the Framework sheet.
FRAMEWORK_NOTES: dict[str, str] = {
    "id": "节点编号：唯一，ASCII 字母/数字/_，不含空格 / node id: unique, ASCII letters, digits, '_', "
          "no spaces",
    "parent": "上级节点编号；根节点（指数本身）留空 / id of the parent node; blank for the root "
              "(the index itself)",
    "name_zh": "中文名称 / Chinese name",
    "name_en": "英文名称 / English name",
    "weight": "在同级节点中的权重（根节点留空；同级之和应为 1）/ weight relative to its siblings "
              "(blank for the root; each sibling group sums to 1)",
    "direction": "仅指标：1 = 越大越好，-1 = 越小越好 / leaves only: 1 higher is better, "
                 "-1 lower is better",
    "normalisation": "仅指标：标准化方法，留空 = Settings 默认 / leaves only: normalisation method; "
                     "blank = Settings default (" + ", ".join(method_names(NORMALISERS)) + ")",
    "goal_low": "仅指标：目标下限（goalposts），低于者截断 / leaves only: lower goalpost "
                "(values below are clamped)",
    "goal_high": "仅指标：目标上限（goalposts），高于者截断 / leaves only: upper goalpost "
                 "(values above are clamped)",
    "denominator": "仅指标：留空，或 Units 表中用作分母的数值列（人均等）/ leaves only: blank or a "
                   "numeric Units column to divide by (per capita, per GDP)",
    "transform": "仅指标：留空或 log（除以分母后取自然对数）/ leaves only: blank or log "
                 "(natural log, after the denominator)",
    "aggregation": "仅上级节点：合成方法，留空 = Settings 默认 / inner nodes only: aggregation "
                   "method; blank = Settings default (" + ", ".join(method_names(AGGREGATORS)) + ")",
    "weighting": "仅上级节点：子节点权重的确定方式，留空或 given = 使用 weight 列 / inner nodes only: "
                 "how its children's weights are set; blank or given = their weight cells ("
                 + ", ".join(method_names(WEIGHTINGS)) + ")",
    "unit": "计量单位（仅供阅读）/ unit of measurement (for people)",
    "source": "来源（仅供阅读）/ source (for people)",
    "note": "备注（仅供阅读）/ note (for people)",
    SIBLING_SUM: "辅助列，程序不读取：同一上级节点下各节点权重之和，应为 1，否则标红 / helper column, "
                 "not read by xl-aiindex: sum of the weights of this node's sibling group; should "
                 "be 1 (red otherwise)",
}

UNITS_NOTES = {
    "id": "单位编号（文本，唯一；NA、None 也是普通编号）/ unit id (text, unique; NA, None are ids "
          "like any other)",
    "name_zh": "中文名称（函数可按名称查找单位）/ Chinese name (UDFs accept a unit by name)",
    "name_en": "英文名称（函数可按名称查找单位）/ English name (UDFs accept a unit by name)",
}
TEXT_COLUMN_NOTE = "文本列：分组（如 region）/ text column: a grouping (e.g. region)"
NUMBER_COLUMN_NOTE = "数值列：可用作指标分母 / numeric column: may serve as an indicator's denominator"
