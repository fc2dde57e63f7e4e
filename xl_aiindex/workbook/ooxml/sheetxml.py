"""A result sheet's XML, generated in the order CT_Worksheet requires and streamed into the
output zip; cell values as XML.
"""

from __future__ import annotations

import datetime
import numbers
import zipfile
from typing import Any

from ..cells import column_letter
from ..contract import FORMULA_ERRORS as _FORMULA_ERRORS
from ..sheetspec import Style
from .jobs import _SheetJob
from .styles import _hex_argb
from .xmltext import _ILLEGAL_XML, _XML_DECL, NS_MAIN, NS_R, _esc, _esc_attr, _text


def _coerce(v: Any) -> str | float | int | bool | None:
    """Exotic cell values (numpy scalars, pandas NA, str subclasses) as plain Python ones."""
    if isinstance(v, bool) or (getattr(getattr(v, "dtype", None), "kind", "") == "b"):
        return bool(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v)
    if isinstance(v, str):
        return str(v)
    if type(v).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(v, datetime.date | datetime.time | datetime.timedelta):
        # dates carried over from a sheet (e.g. the Log's) are kept as ISO text: unambiguous in
        # every locale, and nothing computes with them
        return v.isoformat(sep=" ") if isinstance(v, datetime.datetime) else (
            str(v) if isinstance(v, datetime.timedelta) else v.isoformat())
    raise TypeError(f"unsupported cell value {v!r} ({type(v).__name__})")


def _value_xml(v: Any) -> tuple[str, str] | None:
    """(t attribute, <v> text) of a cached formula result; None when there is none."""
    t = type(v)
    if t is not float and t is not int and t is not str and t is not bool and v is not None:
        v = _coerce(v)
        t = type(v)
    if v is None:
        return None
    if t is bool:
        return ' t="b"', "1" if v else "0"
    if t is float:
        return None if v - v != 0.0 else ("", repr(v))
    if t is int:
        return "", (str(v) if -(2**53) <= v <= 2**53 else repr(float(v)))
    if v in _FORMULA_ERRORS:
        return ' t="e"', v
    return ' t="str"', _text(v)


def _cell_xml(p: str, ref: str, v: Any) -> str:
    """One written cell (``p``: the sheet's element prefix); ``""`` for no cell."""
    if v is None or v == "":
        return ""
    v = _coerce(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return f'<{p}c r="{ref}" t="b"><{p}v>{int(v)}</{p}v></{p}c>'
    if isinstance(v, int):
        return f"<{p}c r=\"{ref}\"><{p}v>{v}</{p}v></{p}c>"
    if isinstance(v, float):
        return "" if v - v != 0.0 else f"<{p}c r=\"{ref}\"><{p}v>{v!r}</{p}v></{p}c>"
    return (f'<{p}c r="{ref}" t="inlineStr"><{p}is><{p}t xml:space="preserve">{_text(v)}'
            f"</{p}t></{p}is></{p}c>")


def _write_sheet(zout: zipfile.ZipFile, zinfo: zipfile.ZipInfo, job: _SheetJob,
                 xf_attr: dict[Style, str]) -> None:
    spec = job.spec
    n_rows, n_cols = job.n_rows, job.n_cols
    letters = [column_letter(i) for i in range(n_cols)]
    last = f"{letters[-1]}{n_rows}" if n_rows and n_cols else ""
    force64 = n_rows * max(n_cols, 1) > 20_000_000
    with zout.open(zinfo, "w", force_zip64=force64) as out:
        out.write(_sheet_head(job, last).encode())
        buf: list[str] = []
        w = buf.append
        links: list[str] = []
        s_cache: dict[int, tuple[Style, str]] = {}
        inline = ' t="inlineStr"><is><t xml:space="preserve">'
        for r_idx, row in enumerate(spec.rows, 1):
            rn = str(r_idx)
            cells: list[str] = []
            c = cells.append
            for j, cell in enumerate(row):
                st = cell.style
                if st is None:
                    sa = ""
                else:
                    hit = s_cache.get(id(st))
                    if hit is None or hit[0] is not st:
                        if len(s_cache) > 4096:
                            s_cache.clear()
                        hit = s_cache[id(st)] = (st, xf_attr[st])
                    sa = hit[1]
                if cell.link is not None:
                    links.append(_hyperlink(f"{letters[j]}{rn}", cell.link, job))
                v: Any = cell.value
                f = cell.formula
                if f is None:
                    t = type(v)
                    if t is float:
                        if v - v == 0.0:   # finite
                            c(f'<c r="{letters[j]}{rn}"{sa}><v>{v!r}</v></c>')
                        continue
                    if t is str:
                        c(f'<c r="{letters[j]}{rn}"{sa}{inline}{_text(v)}</t></is></c>')
                        continue
                    if v is None:
                        continue
                    if t is not int and t is not bool:
                        v = _coerce(v)
                        t = type(v)
                        if v is None or (t is float and v - v != 0.0):
                            continue
                        if t is str:
                            c(f'<c r="{letters[j]}{rn}"{sa}{inline}{_text(v)}</t></is></c>')
                            continue
                    if t is bool:
                        c(f'<c r="{letters[j]}{rn}"{sa} t="b"><v>{1 if v else 0}</v></c>')
                    elif t is int:
                        num = str(v) if -(2**53) <= v <= 2**53 else repr(float(v))
                        c(f'<c r="{letters[j]}{rn}"{sa}><v>{num}</v></c>')
                    else:
                        c(f'<c r="{letters[j]}{rn}"{sa}><v>{v!r}</v></c>')
                else:
                    if f.startswith("="):
                        f = f[1:]
                    fx = _esc(_ILLEGAL_XML.sub("", f))
                    cached = _value_xml(v)
                    if cached is None:
                        c(f'<c r="{letters[j]}{rn}"{sa}><f>{fx}</f></c>')
                    else:
                        c(f'<c r="{letters[j]}{rn}"{sa}{cached[0]}><f>{fx}</f>'
                          f"<v>{cached[1]}</v></c>")
            if cells:
                w(f'<row r="{rn}">')
                w("".join(cells))
                w("</row>")
                if len(buf) > 300:
                    out.write("".join(buf).encode())
                    buf.clear()
        w("</sheetData>")
        if job.protection is not None:   # CT_Worksheet: right after sheetData (sheetCalcPr)
            w("<sheetProtection" + "".join(f' {k}="{_esc_attr(v)}"'
                                           for k, v in job.protection.items()) + "/>")
        if spec.autofilter and last and job.table is None:
            w(f'<autoFilter ref="A1:{last}"/>')
        if links:
            w("<hyperlinks>")
            w("".join(links))
            w("</hyperlinks>")
        w('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
          'footer="0.3"/>')
        if job.drawing is not None:
            w(f'<drawing r:id="{_esc_attr(job.drawing.id)}"/>')
        if job.vml is not None:
            w(f'<legacyDrawing r:id="{_esc_attr(job.vml.id)}"/>')
        if job.table is not None:
            w(f'<tableParts count="1"><tablePart r:id="{_esc_attr(job.table.id)}"/></tableParts>')
        w("</worksheet>")
        out.write("".join(buf).encode())


def _hyperlink(ref: str, link: str, job: _SheetJob) -> str:
    rid = job.external.get(link)
    if rid is not None:
        return f'<hyperlink ref="{ref}" r:id="{rid}"/>'
    return f'<hyperlink ref="{ref}" location="{_esc_attr(link.removeprefix("#"))}"/>'


def _sheet_head(job: _SheetJob, last: str) -> str:
    spec = job.spec
    parts = [_XML_DECL, f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">']
    if job.code_name is not None or spec.tab_color is not None:
        pr = "<sheetPr"
        if job.code_name is not None:
            pr += f' codeName="{_esc_attr(job.code_name)}"'
        if spec.tab_color is not None:
            pr += f'><tabColor rgb="{_hex_argb(spec.tab_color, "tab_color")}"/></sheetPr>'
        else:
            pr += "/>"
        parts.append(pr)
    parts.append(f'<dimension ref="A1{":" + last if last and last != "A1" else ""}"/>')
    view_attrs = "".join(f' {k}="{_esc_attr(v)}"' for k, v in job.view_attrs.items())
    rows, cols = spec.freeze
    if rows or cols:
        top_left = f"{column_letter(cols)}{rows + 1}"
        pane = ("bottomRight" if rows and cols else "bottomLeft" if rows else "topRight")
        split = (f' xSplit="{cols}"' if cols else "") + (f' ySplit="{rows}"' if rows else "")
        parts.append(f'<sheetViews><sheetView{view_attrs} workbookViewId="0">'
                     f'<pane{split} topLeftCell="{top_left}" activePane="{pane}" '
                     f'state="frozen"/><selection pane="{pane}" activeCell="{top_left}" '
                     f'sqref="{top_left}"/></sheetView></sheetViews>')
    else:
        parts.append(f'<sheetViews><sheetView{view_attrs} workbookViewId="0"/></sheetViews>')
    fmt = dict(job.format_attrs)
    fmt.setdefault("defaultRowHeight", "15")
    parts.append("<sheetFormatPr" + "".join(f' {k}="{_esc_attr(v)}"' for k, v in fmt.items())
                 + "/>")
    if spec.widths:
        parts.append("<cols>")
        for col in sorted(spec.widths):
            width = min(float(spec.widths[col]), 255.0)
            parts.append(f'<col min="{col + 1}" max="{col + 1}" width="{width!r}" '
                         'customWidth="1"/>')
        parts.append("</cols>")
    parts.append("<sheetData>")
    return "".join(parts)
