"""The WeightsUsed, Ranking and Tiers sheets in formula mode: the values-mode sheets with the
cells that have a closed formula replaced by it (the engine's value cached)."""

from __future__ import annotations

from dataclasses import replace

from ...panel import PanelResult, panel_of
from ..cells import column_letter
from ..panel_sheets import panel_ranking_table, panel_tiers_table
from ..results import decimals_of, ranking_table, tiers_table
from ..sheetspec import Cell, SheetSpec
from .refs import cached, quote_sheet, with_value
from .state import FormulaState


def weights_sheet(state: FormulaState, spec: SheetSpec) -> SheetSpec:
    """The WeightsUsed sheet ``spec``: given weights as the Framework weight over its
    siblings' sum, ``weight_in_total`` as the product along the path; adds ``xlai_w_<node>``."""
    table = state.result.weights_used
    fw = state.locator.sheets.get("framework")
    row_of_child = {str(c): i + 2 for i, c in enumerate(table["child"])}
    rows: list[list[Cell]] = [list(spec.rows[0])]
    for i, rec in enumerate(table.itertuples(index=False)):
        r = i + 2
        old = list(spec.rows[i + 1])
        node, child, method = str(rec.node), str(rec.child), str(rec.method)
        if method == "given" and fw is not None and "weight" in fw.cols:
            siblings = state.tree.children[node]
            refs = []
            for s in siblings:
                cell = f"{quote_sheet(fw.name)}!${column_letter(fw.cols['weight'])}$" \
                       f"{fw.rows[s.lower()] + 1}"
                refs.append(state.names.add("fw", s, cell))
                state.text_cells.append((fw.name, fw.rows[s.lower()], fw.cols["weight"], "", s))
            own = state.names.get("fw", child)
            old[3] = with_value(old[3], cached(rec.weight),
                             formula=f"{own}/({'+'.join(refs)})")
        parent_row = row_of_child.get(node)
        total = f"D{r}" if parent_row is None else f"D{r}*E{parent_row}"
        old[4] = with_value(old[4], cached(rec.weight_in_total), formula=total)
        state.names.add("w", child, f"{quote_sheet('WeightsUsed')}!$D${r}")
        rows.append(old)
    return replace(spec, rows=rows)


def ranking_sheet(state: FormulaState, spec: SheetSpec) -> SheetSpec:
    """The Ranking sheet ``spec``: every number looked up by unit (INDEX/MATCH), rows kept
    in the order written."""
    panel = state.panel
    table = ranking_table(state.result) if panel is None else \
        panel_ranking_table(_panel(state))
    cols = list(table.columns)
    unit_name = state.names.get("", "unit")
    sources = {"rank": state.names.get("", "rank"), "tier": state.names.get("", "tier"),
               "score": state.names.get("s", state.root)}
    for c in cols:
        if c in state.col_of:
            sources[c] = state.names.get("s", c)
    published = None
    if "published" in cols and state.given is not None:
        published = state.given_name("published")
    rule = state.settings.tiers
    labels = ",".join('"' + rule.label(t).replace('"', '""') + '"'
                      for t in range(1, rule.count + 1)) if rule.labels else ""
    places = decimals_of(table["published"]) if "published" in cols else 0
    rows: list[list[Cell]] = [list(spec.rows[0])]
    ucol = column_letter(cols.index("unit"))
    for i, rec in enumerate(table.itertuples(index=False)):
        r = i + 2
        values = dict(zip(cols, rec, strict=True))
        old = list(spec.rows[i + 1])
        if panel is None:
            match = f"MATCH(${ucol}{r},{unit_name},0)"
        else:   # a unit-year: unit|year in Calc's first column
            ycol = column_letter(cols.index("year"))
            match = f'MATCH(${ucol}{r}&"|"&${ycol}{r},{state.names.get("", "key")},0)'
        key = values["unit"] if panel is None else f"{values['unit']}|{values['year']}"
        for j, c in enumerate(cols):
            if c == "tier" and labels:
                # the label the analyst reads; the tier number stays in Calc
                t = f"INDEX({sources[c]},{match})"
                formula = f'IF(ISNUMBER({t}),CHOOSE({t},{labels}),"")'
            elif c in sources:
                formula = f"INDEX({sources[c]},{match})"
            elif c == "published" and published is not None and state.given is not None \
                    and key in state.given.pos:
                g = f"INDEX({published},{state.given.pos[key]})"
                formula = f'IF(ISNUMBER({g}),{g},"")'
            elif c == "diff" and published is not None:
                a = column_letter(cols.index("score"))
                b = column_letter(cols.index("published"))
                formula = (f'IF(AND(ISNUMBER({a}{r}),ISNUMBER({b}{r})),'
                           f'ROUND({a}{r}-{b}{r},{places}),"")')
            else:
                continue
            old[j] = with_value(old[j], cached(values[c]), formula=formula)
        rows.append(old)
    return replace(spec, rows=rows)


def tiers_sheet(state: FormulaState, spec: SheetSpec) -> SheetSpec:
    """The Tiers sheet ``spec``: each tier's ``count`` as a COUNTIF over the Calc tiers."""
    table = tiers_table(state.result) if state.panel is None else \
        panel_tiers_table(_panel(state))
    tier_name = state.names.get("", "tier")
    at = list(table.columns).index("count")
    rows: list[list[Cell]] = [list(spec.rows[0])]
    for i, rec in enumerate(table.itertuples(index=False)):
        old = list(spec.rows[i + 1])
        formula = f"COUNTIF({tier_name},{int(rec.tier)})" if state.panel is None else \
            f'COUNTIFS({tier_name},{int(rec.tier)},{state.names.get("", "year")},{int(rec.year)})'
        old[at] = with_value(old[at], int(rec.count), formula=formula)
        rows.append(old)
    return replace(spec, rows=rows)


def _panel(state: FormulaState) -> PanelResult:
    """The panel whose year the formula state's panel layout shows."""
    assert state.panel is not None
    panel = panel_of(state.panel.shown)
    assert panel is not None
    return panel
