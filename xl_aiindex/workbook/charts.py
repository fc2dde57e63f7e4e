"""Native Excel charts as DrawingML parts, written by hand (no third-party chart writer).

A chart part (``xl/charts/chartN.xml``) holds no data of its own: every series points at
cells (``'Charts'!$H$2:$H$16``) and carries no cached values, so Excel and LibreOffice draw
it from the cells when they open the workbook, and a recalc that rewrites the cells moves the
bars without touching the chart part. A :class:`Drawing` (``xl/drawings/drawingN.xml``) places
charts on a sheet; :mod:`xl_aiindex.workbook.ooxml` adds, keeps or replaces it.

The functions return the chart part's XML (``bytes``) and are writer-independent:

* :func:`bar_chart` — one series, horizontal or vertical bars, each bar filled on its own
  (``fills``: e.g. by tier), rank 1 at the top;
* :func:`clustered_bar_chart` — several series side by side over the same categories;
* :func:`radar_chart` — several series on a radar (spider) chart;
* :func:`line_chart` — several series as lines over the same categories (Trends: a unit per
  line over the years);
* :func:`rank_interval_chart` — a dot per unit at its median rank and a bar from its 5 % to its
  95 % rank (custom error bars), units left to right on a category axis, rank 1 at the top (the
  UncertaintyResults sheet's chart).

Text uses Calibri for Latin and Microsoft YaHei for East Asian script (Excel on Windows);
LibreOffice and Excel on macOS substitute an installed CJK font (Noto Sans CJK, PingFang).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

NS_C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
NS_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#: Relationship type from a drawing to a chart.
RT_CHART = NS_REL + "/chart"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"

_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
#: Series colours of multi-series charts (a unit per series).
SERIES_COLORS = ("1F4E78", "C55A11", "548235", "7030A0", "BF8F00", "2E75B6")
#: Colours of lines (radar and line charts): the series colours, then nine more, so that a
#: chart of up to 15 lines (a TOP-15 over the years) has no two lines alike.
LINE_COLORS = (*SERIES_COLORS, "C00000", "00B0F0", "FF66CC", "7F6000", "00B050", "3A3838",
               "FFC000", "8FAADC", "A9D18E")
#: Outline of a bar filled with a tier colour (the Ranking sheet's pale fills need an edge).
OUTLINE = "7F7F7F"
LATIN_FONT = "Calibri"
EA_FONT = "Microsoft YaHei"


def _esc(s: str) -> str:
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def sheet_ref(sheet: str, first_col: str, first_row: int, last_col: str | None = None,
              last_row: int | None = None) -> str:
    """An absolute reference such as ``'Charts'!$H$2:$H$16`` (one cell when no last given)."""
    quoted = "'" + sheet.replace("'", "''") + "'"
    ref = f"{quoted}!${first_col}${first_row}"
    if last_col is not None or last_row is not None:
        ref += f":${last_col or first_col}${last_row if last_row is not None else first_row}"
    return ref


@dataclass(frozen=True)
class Series:
    """One series: its values (a cell range), its name (a cell reference or a literal text)."""

    values: str
    name_ref: str | None = None
    name: str | None = None
    color: str | None = None
    #: outline colour of the bars (e.g. to edge the pale tier fills); None: no outline
    outline: str | None = None
    #: one fill per data point (``"RRGGBB"``), e.g. by tier; empty = the series colour
    point_fills: Sequence[str] = ()


def _sppr(fill: str | None, line: str | None = None, width: int = 6350) -> str:
    body = f'<a:solidFill><a:srgbClr val="{fill}"/></a:solidFill>' if fill else ""
    if line:
        body += f'<a:ln w="{width}"><a:solidFill><a:srgbClr val="{line}"/></a:solidFill></a:ln>'
    return f"<c:spPr>{body}</c:spPr>"


def _font(size: int = 900, bold: bool = False, color: str = "404040") -> str:
    b = ' b="1"' if bold else ' b="0"'
    return (f'<a:defRPr sz="{size}"{b}><a:solidFill><a:srgbClr val="{color}"/></a:solidFill>'
            f'<a:latin typeface="{LATIN_FONT}"/><a:ea typeface="{EA_FONT}"/>'
            f'<a:cs typeface="{LATIN_FONT}"/></a:defRPr>')


def _txpr(size: int = 900, bold: bool = False) -> str:
    return (f"<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr>{_font(size, bold)}</a:pPr>"
            '<a:endParaRPr lang="zh-CN"/></a:p></c:txPr>')


def _title(text: str) -> str:
    return ("<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p>"
            f"<a:pPr>{_font(1200, True)}</a:pPr>"
            f'<a:r><a:rPr lang="zh-CN" sz="1200" b="1"/><a:t>{_esc(text)}</a:t></a:r></a:p>'
            '</c:rich></c:tx><c:overlay val="0"/></c:title><c:autoTitleDeleted val="0"/>')


def _tx(s: Series) -> str:
    if s.name_ref:
        return f"<c:tx><c:strRef><c:f>{_esc(s.name_ref)}</c:f></c:strRef></c:tx>"
    if s.name:
        return f"<c:tx><c:v>{_esc(s.name)}</c:v></c:tx>"
    return ""


def _cat(ref: str) -> str:
    return f"<c:cat><c:strRef><c:f>{_esc(ref)}</c:f></c:strRef></c:cat>"


def _val(ref: str, tag: str = "val") -> str:
    return f"<c:{tag}><c:numRef><c:f>{_esc(ref)}</c:f></c:numRef></c:{tag}>"


def _dlbls(num_format: str, pos: str | None = "outEnd") -> str:
    where = f'<c:dLblPos val="{pos}"/>' if pos else ""
    return (f'<c:dLbls><c:numFmt formatCode="{_esc(num_format)}" sourceLinked="0"/>'
            f'<c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>{_txpr(800)}{where}'
            '<c:showLegendKey val="0"/><c:showVal val="1"/><c:showCatName val="0"/>'
            '<c:showSerName val="0"/><c:showPercent val="0"/><c:showBubbleSize val="0"/>'
            "</c:dLbls>")


def _no_dlbls() -> str:
    return ('<c:dLbls><c:showLegendKey val="0"/><c:showVal val="0"/><c:showCatName val="0"/>'
            '<c:showSerName val="0"/><c:showPercent val="0"/><c:showBubbleSize val="0"/>'
            "</c:dLbls>")


def _cat_ax(ax: int, cross: int, pos: str, reverse: bool, delete: bool = False,
            crosses: str = "autoZero") -> str:
    orient = "maxMin" if reverse else "minMax"
    return (f'<c:catAx><c:axId val="{ax}"/><c:scaling><c:orientation val="{orient}"/></c:scaling>'
            f'<c:delete val="{1 if delete else 0}"/><c:axPos val="{pos}"/>'
            '<c:numFmt formatCode="General" sourceLinked="1"/>'
            '<c:majorTickMark val="none"/><c:minorTickMark val="none"/>'
            f'<c:tickLblPos val="nextTo"/>{_sppr(None, "BFBFBF")}{_txpr(900)}'
            f'<c:crossAx val="{cross}"/><c:crosses val="{crosses}"/><c:auto val="1"/>'
            '<c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:tickLblSkip val="1"/>'
            '<c:noMultiLvlLbl val="0"/></c:catAx>')


def _val_ax(ax: int, cross: int, pos: str, num_format: str, *, gridlines: bool = True,
            crosses: str = "autoZero", minimum: float | None = None,
            maximum: float | None = None, reverse: bool = False, delete: bool = False,
            between: str = "between", major: float | None = None) -> str:
    scaling = f'<c:orientation val="{"maxMin" if reverse else "minMax"}"/>'
    if maximum is not None:
        scaling += f'<c:max val="{maximum!r}"/>'
    if minimum is not None:
        scaling += f'<c:min val="{minimum!r}"/>'
    grid = ('<c:majorGridlines><c:spPr><a:ln w="6350"><a:solidFill><a:srgbClr val="E0E0E0"/>'
            "</a:solidFill></a:ln></c:spPr></c:majorGridlines>") if gridlines else ""
    return (f'<c:valAx><c:axId val="{ax}"/><c:scaling>{scaling}</c:scaling>'
            f'<c:delete val="{1 if delete else 0}"/><c:axPos val="{pos}"/>{grid}'
            f'<c:numFmt formatCode="{_esc(num_format)}" sourceLinked="0"/>'
            '<c:majorTickMark val="out"/><c:minorTickMark val="none"/>'
            f'<c:tickLblPos val="nextTo"/>{_sppr(None, "BFBFBF")}{_txpr(800)}'
            f'<c:crossAx val="{cross}"/><c:crosses val="{crosses}"/>'
            f'<c:crossBetween val="{between}"/>'
            + (f'<c:majorUnit val="{major!r}"/>' if major is not None else "")
            + "</c:valAx>")


_NO_TITLE = '<c:autoTitleDeleted val="1"/>'
_OVERLAP = '<c:overlap val="-10"/>'


def _legend(pos: str = "b") -> str:
    return f'<c:legend><c:legendPos val="{pos}"/><c:overlay val="0"/>{_txpr(900)}</c:legend>'


def _major_unit(low: float | None, high: float | None) -> float | None:
    """20 on a fixed 0–100 axis (six labels: 0, 20 … 100); the application's choice otherwise."""
    return 20.0 if low == 0.0 and high == 100.0 else None


def _space(title: str, plot: str, legend: bool, legend_pos: str = "b") -> bytes:
    xml = (f'{_DECL}<c:chartSpace xmlns:c="{NS_C}" xmlns:a="{NS_A}" xmlns:r="{NS_REL}">'
           '<c:date1904 val="0"/><c:lang val="zh-CN"/><c:roundedCorners val="0"/><c:chart>'
           f"{_title(title) if title else _NO_TITLE}"
           f"<c:plotArea><c:layout/>{plot}</c:plotArea>"
           f"{_legend(legend_pos) if legend else ''}"
           '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart>'
           f'{_sppr("FFFFFF", "D9D9D9")}{_txpr(900)}</c:chartSpace>')
    return xml.encode("utf-8")


def _bar_ser(i: int, s: Series, categories: str, labels: str | None, color_of: int | None = None
             ) -> str:
    k = i if color_of is None else color_of
    color = s.color or SERIES_COLORS[k % len(SERIES_COLORS)]
    points = "".join(
        f'<c:dPt><c:idx val="{j}"/><c:invertIfNegative val="0"/><c:bubble3D val="0"/>'
        f"{_sppr(fill, OUTLINE)}</c:dPt>" for j, fill in enumerate(s.point_fills))
    dl = _dlbls(labels) if labels else ""
    return (f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/>{_tx(s)}'
            f'{_sppr(color, s.outline or (OUTLINE if s.point_fills else None))}'
            '<c:invertIfNegative val="0"/>'
            f"{points}{dl}{_cat(categories)}{_val(s.values)}</c:ser>")


def bar_chart(title: str, categories: str, series: Series, *, horizontal: bool = True,
              num_format: str = "0.00", labels: bool = True, axis_min: float | None = None,
              axis_max: float | None = None) -> bytes:
    """A one-series bar chart: ``categories`` (a cell range of labels) against
    ``series.values``; ``series.point_fills`` colours each bar (e.g. by tier). Horizontal bars
    run top-down in cell order (the first row at the top, as a ranking reads)."""
    return clustered_bar_chart(title, categories, [series], horizontal=horizontal,
                               num_format=num_format, labels=labels, legend=False,
                               axis_min=axis_min, axis_max=axis_max)


def clustered_bar_chart(title: str, categories: str, series: Sequence[Series], *,
                        horizontal: bool = False, num_format: str = "0.00",
                        labels: bool = True, legend: bool = True,
                        axis_min: float | None = None, axis_max: float | None = None,
                        overlap: int | None = None) -> bytes:
    """Several series side by side over the same categories (e.g. two cities' dimension
    scores); a legend names the series in the order given. ``overlap`` 100 draws the series on
    top of each other: with one non-blank value per category (a column per tier, say) each bar
    takes the colour of the series holding its value, so colours follow the cells."""
    if not series:
        raise ValueError("a bar chart needs at least one series")
    order = list(range(len(series)))
    if horizontal:
        # Excel and LibreOffice list a horizontal bar chart's legend from the last series to
        # the first (as the bars stack upwards): the series go in last-first, so the legend
        # reads in the caller's order (第一梯队 first)
        order.reverse()
    sers = "".join(_bar_ser(i, series[k], categories, num_format if labels else None, k)
                   for i, k in enumerate(order))
    plot = (f'<c:barChart><c:barDir val="{"bar" if horizontal else "col"}"/>'
            '<c:grouping val="clustered"/><c:varyColors val="0"/>'
            f'{sers}<c:gapWidth val="{60 if len(series) == 1 or overlap == 100 else 80}"/>'
            + ("" if len(series) == 1 else _OVERLAP if overlap is None
               else f'<c:overlap val="{int(overlap)}"/>')
            + '<c:axId val="500000001"/><c:axId val="500000002"/></c:barChart>'
            + _cat_ax(500000001, 500000002, "l" if horizontal else "b", horizontal)
            + _val_ax(500000002, 500000001, "t" if horizontal else "l", "0",
                      minimum=axis_min, maximum=axis_max,
                      major=_major_unit(axis_min, axis_max)))
    return _space(title, plot, legend and len(series) > 1, "r" if horizontal else "b")


def _lines(categories: str, series: Sequence[Series], tail: str) -> list[str]:
    """Each series as a coloured line with round markers (radar and line charts); ``tail``
    closes each ``<c:ser>`` (a line chart's ``<c:smooth>``)."""
    sers = []
    for i, s in enumerate(series):
        color = s.color or LINE_COLORS[i % len(LINE_COLORS)]
        sers.append(f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/>{_tx(s)}'
                    f'<c:spPr><a:ln w="22225"><a:solidFill><a:srgbClr val="{color}"/>'
                    "</a:solidFill></a:ln></c:spPr>"
                    '<c:marker><c:symbol val="circle"/><c:size val="5"/>'
                    f"{_sppr(color, color)}</c:marker>"
                    f"{_cat(categories)}{_val(s.values)}{tail}</c:ser>")
    return sers


def radar_chart(title: str, categories: str, series: Sequence[Series], *,
                axis_min: float | None = 0.0, axis_max: float | None = 100.0) -> bytes:
    """Several series on a radar chart (lines with markers) over ``categories``."""
    if not series:
        raise ValueError("a radar chart needs at least one series")
    sers = _lines(categories, series, "")
    plot = ('<c:radarChart><c:radarStyle val="marker"/><c:varyColors val="0"/>'
            f'{"".join(sers)}<c:axId val="500000011"/><c:axId val="500000012"/></c:radarChart>'
            + _cat_ax(500000011, 500000012, "b", False)
            + _val_ax(500000012, 500000011, "l", "0", minimum=axis_min, maximum=axis_max,
                      between="between"))
    return _space(title, plot, True)


def line_chart(title: str, categories: str, series: Sequence[Series], *,
               num_format: str = "0", axis_min: float | None = None,
               axis_max: float | None = None) -> bytes:
    """Several series as lines with markers over ``categories`` (e.g. a unit per series over
    the years of a panel); a legend names the series, a blank cell is a gap in its line.
    ``axis_min``/``axis_max``: the value axis' ends (None: the application's choice)."""
    if not series:
        raise ValueError("a line chart needs at least one series")
    sers = _lines(categories, series, '<c:smooth val="0"/>')
    plot = ('<c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>'
            f'{"".join(sers)}<c:marker val="1"/>'
            '<c:axId val="500000041"/><c:axId val="500000042"/></c:lineChart>'
            + _cat_ax(500000041, 500000042, "b", False)
            + _val_ax(500000042, 500000041, "l", num_format, minimum=axis_min,
                      maximum=axis_max, major=_major_unit(axis_min, axis_max)))
    return _space(title, plot, True)


def rank_interval_chart(title: str, categories: str, center: str, minus: str, plus: str,
                        count: int, *, name: str = "median", color: str = SERIES_COLORS[0]
                        ) -> bytes:
    """A dot per category (``categories``: a cell range of labels, left to right) at its rank
    ``center`` with a vertical bar reaching ``minus`` above and ``plus`` below it (cell ranges of
    *lengths*, as Excel's custom error bars take them: median − p5 and p95 − median). The rank
    axis runs down from 0 (unlabelled, room above rank 1) at the top to ``count`` + 1 (room
    below the last rank) at the bottom; the category axis sits at the bottom. The XML depends on the arguments only, not on the cells' values:
    rewriting the cells moves the dots and bars and leaves the part as it was.

    Drawn as a line chart without lines (markers only) so that the labels are a category axis;
    its error bars are the y error bars Excel offers on a line series."""
    err = ('<c:errBars><c:errDir val="y"/><c:errBarType val="both"/>'
           '<c:errValType val="cust"/><c:noEndCap val="0"/>'
           f'{_val(plus, "plus")}{_val(minus, "minus")}'
           f'<c:spPr><a:ln w="15875"><a:solidFill><a:srgbClr val="{color}"/></a:solidFill>'
           "</a:ln></c:spPr></c:errBars>")
    ser = (f'<c:ser><c:idx val="0"/><c:order val="0"/><c:tx><c:v>{_esc(name)}</c:v></c:tx>'
           '<c:spPr><a:ln w="19050"><a:noFill/></a:ln></c:spPr>'
           '<c:marker><c:symbol val="circle"/><c:size val="6"/>'
           f"{_sppr(color, color)}</c:marker>{err}"
           f'{_cat(categories)}{_val(center)}<c:smooth val="0"/></c:ser>')
    plot = ('<c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>'
            f'{ser}<c:marker val="1"/>'
            '<c:axId val="500000031"/><c:axId val="500000032"/></c:lineChart>'
            # the category axis crosses the reversed rank axis at its maximum: at the bottom
            + _cat_ax(500000031, 500000032, "b", False, crosses="max")
            + _val_ax(500000032, 500000031, "l", "0;-0;;@", minimum=0.0,
                      maximum=float(max(count, 1) + 1), reverse=True,
                      major=float(rank_step(count))))
    return _space(title, plot, False)


def rank_step(count: int, ticks: int = 8) -> int:
    """The rank axis' step for ``count`` units: the smallest of 1, 2, 5, 10, 20, 50, … giving
    at most ``ticks`` labels.

    >>> rank_step(8), rank_step(30), rank_step(51), rank_step(3000)
    (1, 5, 10, 500)
    """
    step = 1
    while True:
        for m in (1, 2, 5):
            if count <= ticks * step * m:
                return step * m
        step *= 10


# --------------------------------------------------------------------------------------------
# drawings


@dataclass(frozen=True)
class Anchor:
    """Where a chart sits: from (column, row) to (column, row), 0-based cell corners."""

    col: int
    row: int
    col_to: int
    row_to: int


@dataclass(frozen=True)
class Drawing:
    """The charts of one sheet, each with its anchor. An empty drawing means "no charts":
    the writer removes the drawing a sheet had (the tool's own, on a sheet it owns)."""

    charts: Sequence[tuple[Anchor, bytes]] = field(default_factory=tuple)


#: Every chart frame this module writes is named so (``xl-aiindex chart 1``…).
FRAME_NAME = "xl-aiindex chart"


def charts_only(xml: bytes) -> bool:
    """Whether the drawing part ``xml`` holds nothing but chart frames (no picture, shape, text
    box or control): such a drawing on a sheet the tool draws may be redrawn. Frame names are
    not relied on: LibreOffice renames them when it saves."""
    import defusedxml.ElementTree as DET

    root = DET.fromstring(xml, forbid_dtd=True)
    for anchor in (el for el in root if isinstance(el.tag, str)):
        content = [el for el in anchor if isinstance(el.tag, str) and el.tag.rpartition("}")[2]
                   not in ("from", "to", "pos", "ext", "clientData")]
        if len(content) != 1 or content[0].tag != f"{{{NS_XDR}}}graphicFrame":
            return False
        data = content[0].find(f".//{{{NS_A}}}graphicData")
        if data is None or data.get("uri") != NS_C:
            return False
    return True


def drawing_xml(anchors: Sequence[Anchor], rel_ids: Sequence[str]) -> bytes:
    """The drawing part placing one chart per anchor (chart ``i`` via relationship
    ``rel_ids[i]``)."""
    frames = []
    for i, (a, rid) in enumerate(zip(anchors, rel_ids, strict=True)):
        frames.append(
            '<xdr:twoCellAnchor editAs="oneCell">'
            f"<xdr:from><xdr:col>{a.col}</xdr:col><xdr:colOff>0</xdr:colOff>"
            f"<xdr:row>{a.row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
            f"<xdr:to><xdr:col>{a.col_to}</xdr:col><xdr:colOff>0</xdr:colOff>"
            f"<xdr:row>{a.row_to}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>"
            '<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr>'
            f'<xdr:cNvPr id="{i + 2}" name="{FRAME_NAME} {i + 1}"/>'
            "<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>"
            '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
            f'<a:graphic><a:graphicData uri="{NS_C}">'
            f'<c:chart xmlns:c="{NS_C}" r:id="{rid}"/></a:graphicData></a:graphic>'
            "</xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>")
    return (f'{_DECL}<xdr:wsDr xmlns:xdr="{NS_XDR}" xmlns:a="{NS_A}" xmlns:r="{NS_REL}">'
            f'{"".join(frames)}</xdr:wsDr>').encode()


def grid_anchors(n: int, *, first_col: int, per_row: int = 2, width: int = 9, height: int = 22,
                 first_row: int = 1, gap: int = 1) -> list[Anchor]:
    """``n`` anchors laid out ``per_row`` to a row, right of a table ending before ``first_col``."""
    out = []
    for i in range(n):
        col = first_col + (i % per_row) * (width + gap)
        row = first_row + (i // per_row) * (height + gap)
        out.append(Anchor(col, row, col + width, row + height))
    return out
