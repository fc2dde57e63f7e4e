"""How large the picture sheets may grow, checked before anything is computed.

``Charts`` draws a bar chart for the total and for each child of the root, each of
``chart_top`` bars (at most one per unit); ``Compare`` draws a chart per pair of Settings
``compare``, a pair of bars per child of the root. Writing a bar costs the writer about 5 KB
(its table row, the chart's cached values and one point per tier series), so a wide tree with
a large ``chart_top`` (1,100 children × 1,000 bars ran 4 minutes at 6.6 GB before the sheet
was refused) is a problem named on its Settings cell by ``validate`` and ``recalc`` alike,
before the work starts.
"""

from __future__ import annotations

from .errors import Problem
from .i18n import _, ngettext
from .model import IndexModel
from .tree import IndicatorTree

#: The most bars the Charts sheet, and the Compare sheet, may hold (about 250 MB to write).
MAX_BARS = 50_000


def output_size_problems(model: IndexModel, tree: IndicatorTree) -> list[Problem]:
    """A problem on ``chart_top`` when the Charts sheet would hold more than :data:`MAX_BARS`
    bars, and on ``compare`` when the Compare sheet would; each says the largest value that fits.
    """
    problems = []
    s = model.settings
    children = len(tree.children[tree.root.id])
    units = len(model.units.index.unique())
    charts = 1 + children
    per_chart = min(s.chart_top, units)
    if charts * per_chart > MAX_BARS:
        fits = MAX_BARS // charts
        problems.append(Problem("Settings", field="chart_top", problem=_(
            "setting 'chart_top': {top} would draw {charts} charts (the total and each of the "
            "root's {children} children) of {per_chart} bars each: {bars} bars, more than the "
            "{limit} the Charts sheet may hold; set chart_top to {fits} or less (0 = no "
            "charts)").format(top=s.chart_top, charts=f"{charts:,}", children=f"{children:,}",
                              per_chart=f"{per_chart:,}", bars=f"{charts * per_chart:,}",
                              limit=f"{MAX_BARS:,}", fits=fits)))
    pairs = len(s.compare)
    if pairs * 2 * children > MAX_BARS:
        fits = MAX_BARS // (2 * children)
        problems.append(Problem("Settings", field="compare", problem=ngettext(
            "setting 'compare': {pairs} pairs of units would draw {bars} bars (two per child of "
            "the root, {children} children), more than the {limit} the Compare sheet may hold; "
            "list {fits} pair or fewer",
            "setting 'compare': {pairs} pairs of units would draw {bars} bars (two per child of "
            "the root, {children} children), more than the {limit} the Compare sheet may hold; "
            "list {fits} pairs or fewer", fits).format(
                pairs=f"{pairs:,}", bars=f"{pairs * 2 * children:,}", children=f"{children:,}",
                limit=f"{MAX_BARS:,}", fits=fits)))
    return problems
