"""Surgical writer: replace or add result sheets in an ``.xlsx``/``.xlsm`` package, touch nothing else.

:func:`splice_sheets` copies the zip package at ``src`` to ``dst`` entry by entry. Every entry
that need not change is copied raw, in the same order: its local header, compressed bytes and
data descriptor byte for byte, its central-directory record (name, flags, method, CRC, sizes,
times, attributes, extra fields) as it was, with ZIP64 records where the new offsets need them
(:mod:`.zipcopy`; an entry that cannot be copied raw, e.g. an encrypted one, is inflated and
deflated again with identical uncompressed bytes). Only these parts may change:

* the replaced sheets' XML (same part name, same position, ``sheetId`` and ``r:id`` in
  ``workbook.xml``, so defined names with ``localSheetId``, formulas such as
  ``=Ranking!E2`` on other sheets and the sheet order stay valid) and their ``.rels``;
* ``xl/workbook.xml``: one ``<sheet>`` per appended sheet, ``fullCalcOnLoad="1"`` on
  ``<calcPr>`` when ``full_calc_on_load``, and the workbook-level defined names the writer
  owns when ``defined_names`` is given (below);
* ``xl/_rels/workbook.xml.rels`` and ``[Content_Types].xml``: relationships / overrides for
  appended sheets, and removal of those of the parts removed (below);
* ``xl/styles.xml``: fonts, fills, borders, number formats and cell formats (``cellXfs``)
  the workbook lacks are *appended* (an identical entry, compared by meaning, is reused, so
  the part does not grow with every recalc); existing entries are never reordered or
  changed, so every style index already used in the workbook keeps its meaning. Custom number formats get ids >= 164 that
  do not clash with the existing ones; ``count`` attributes are updated;
* ``xl/vbaProject.bin`` of a macro-enabled workbook, when sheets are appended: each gets a
  code name and an empty document module, as Excel keeps one per sheet (:mod:`.vba_sheets`);
  every module's source stays as it was, the compiled cache is dropped (Office recompiles).
  A project that cannot be written again without loss (forms, other libraries' references,
  descriptions, a password…) is copied byte for byte, and the new sheets get no code name;
* ``xl/calcChain.xml`` is removed (with its relationship and content-type override) when a
  sheet is replaced: its entries may name cells that no longer hold formulas, which Excel
  reports as corruption; Excel rebuilds the chain on load.

* a sheet given a :class:`RowAppend` (the Log): one ``<row>`` inserted into its XML below its
  last row holding a value; every other byte of the part and all its relationships kept. A
  sheet whose row 1,048,576 holds a value, or whose new column would fall after XFD, is full:
  the splice fails with :class:`ValueError` (Excel reports a cell beyond them as corruption).

Relationships of a replaced sheet: a ``drawing`` relationship is kept and re-emitted as
``<drawing r:id=…/>`` (a user's chart or picture on a result sheet survives, and so does the
data it points at by cell reference); a table starting in A1 (laid over the result table) is
kept and re-pointed at the new rows and header (``<tableParts>``; the sheet then gets no
``autoFilter`` of its own); a table elsewhere that a formula or defined name uses makes the
splice fail with :class:`ValueError` naming them; every other one (comments and VML drawings,
in whose place the spec's header notes are written, below; form controls, tables, printer
settings, pivot tables, threaded comments, …) is dropped. Parts
that were reachable from the package root before the splice and are not any more are then
removed together with their ``.rels`` and content-type overrides; a part still referenced by
anything else stays. Parts that were already unreachable are left alone.

Native charts (a :class:`SheetSpec` with a ``drawing``, see :mod:`~xl_aiindex.workbook.charts`;
the Charts and Compare sheets): the sheet's drawing and chart parts are kept byte for byte when
they already hold exactly what would be written (a recalc that only changes numbers); otherwise
new ``xl/drawings/drawingN.xml`` and ``xl/charts/chartN.xml`` parts (with their ``.rels`` and
content-type overrides) are added under unused names and the old ones, no longer reachable,
removed as above (such a sheet is the tool's: a chart added there by hand is redrawn too). A
drawing holding anything but charts (pictures, shapes, text boxes) is refused (``ValueError``),
never dropped. Specs without a drawing keep the rule above.

Header notes (``SheetSpec.header_notes``, 0-based column -> text): cell comments on row 1,
written as xlsxwriter and Excel write them: an ``xl/commentsN.xml`` part (author
``xl-aiindex``) and the legacy VML drawing Excel needs to show them
(``xl/drawings/vmlDrawingN.vml``, hidden note boxes anchored beside their cells; ``<o:idmap>``
blocks, and so shape ids, unique in the workbook, so they never clash with a button's), with
``<legacyDrawing r:id=…/>`` in the sheet, an override for the comments part and a ``Default``
content type for ``vml`` when the package has none. As with charts, the sheet's current parts
are kept byte for byte when they hold exactly what would be written (a recalc that changes no
note); otherwise new parts are added under unused names and the old ones, no longer reachable,
removed. A sheet whose old VML drawing holds anything but comment boxes (form controls such as
buttons, pictures) gets no notes: its relationships are dropped as above rather than notes
written over its controls. No notes: no comments part, no VML.

``sharedStrings.xml`` is never touched: text is written as inline strings
(``t="inlineStr"``), the text result of a formula as ``t="str"``. ``docProps/app.xml`` is
left as it was (its list of sheet titles is informational; Excel does not check it).

Why textual editing for the shared parts: ``workbook.xml``, ``styles.xml``, the ``.rels``
parts and ``[Content_Types].xml`` are first parsed with :mod:`defusedxml.ElementTree` (which
rejects DTDs and entity tricks, and gives the semantic view: sheet names, counts, the default
font, …), then edited by *inserting or deleting text at element boundaries* found by a small
tag scanner. An ``ElementTree`` round trip would rename namespace prefixes (``ns0:``) and
drop declarations that are only used in ``mc:Ignorable`` (``x14ac``, ``xr``, ``x15``, …),
which Excel reports as a corrupt file; textual insertion keeps every byte outside the edited
spots, so all prefixes, declarations, ``mc:AlternateContent`` blocks and extension lists
survive. Inserted elements use the prefix the surrounding element uses. The edited text is
parsed again to check it is well-formed.

Sheet XML is generated (never parsed back), in the order CT_Worksheet requires:
``sheetPr`` (tab colour; the old ``codeName`` is kept so VBA document modules still bind),
``dimension``, ``sheetViews`` (frozen pane from ``freeze``; the old sheet's ``tabSelected``,
zoom and grid-line settings are kept), ``sheetFormatPr``, ``cols``, ``sheetData``,
``sheetProtection`` (the replaced sheet's, kept with its password hash and
permissions), ``autoFilter``, ``hyperlinks``, ``pageMargins``, ``drawing``, ``legacyDrawing``,
``tableParts``. It is streamed into the output
zip in chunks (memory independent of the sheet size). Values: numbers as ``repr(float)``,
booleans ``t="b"``, ``None``/NaN/±inf give no cell, text is always text (also when it starts
with ``=``, ``+``, ``-`` or ``@``) with XML-illegal control characters removed, ``_xHHHH_``
sequences escaped as Excel does (openpyxl shows such escapes verbatim; Excel, LibreOffice and
calamine decode them), line ends normalised to ``\\n`` and cut at Excel's 32,767 characters. A :class:`~xl_aiindex.workbook.sheetspec.Cell` with a formula gets ``<f>`` and,
unless the value is ``None``/NaN, a cached ``<v>``. Links: a cell reference
(``"'Data'!D5"``) becomes an internal ``location=`` hyperlink (no relationship); a URL
(``https:``, ``mailto:``, …) an external hyperlink relationship.

Defined names: with ``defined_names`` (name -> reference or formula text, without ``=``),
every workbook-level ``<definedName>`` whose name starts with ``owned_prefix`` (``xlai_``,
case-insensitive) is removed and the given names are added (sorted), all of which must carry
that prefix; names of the user (any other name, and every sheet-local name) are left byte for
byte. ``defined_names={}`` removes the writer's names; ``None`` (the default) leaves
``<definedNames>`` alone. An emptied ``<definedNames>`` element is removed; a missing one is
created where CT_Workbook puts it (before ``<calcPr>``).

Limits: header notes are plain text in one run (no rich text), on row 1 only, their boxes
sized and placed for 15 pt rows; formulas are written as ordinary cell formulas (no array / dynamic-array formulas, and
functions newer than Excel 2010 must carry their ``_xlfn.`` prefix); a stale
``_xlnm._FilterDatabase`` defined name of a replaced sheet is left as is (Excel fixes it when
the filter is next used); Strict Open XML packages and ``.xlsb`` are refused; a name that
matches a chart sheet or dialog sheet is refused.

Where things are (the package's modules, each one concern; lower ones never import higher ones):

* :mod:`.xmltext`: namespaces, content types, limits; the tag scanner and escaping;
* :mod:`.opc`: the zip package's parts and relationships, :func:`package_parts`,
  :func:`sheet_names`, :func:`sheet_kinds`;
* :mod:`.styles`: ``styles.xml`` additions; :mod:`.jobs`: the plan's data (sheet jobs);
* :mod:`.sheetxml`: generated sheet XML and cell values; :mod:`.rows`: :class:`RowAppend`;
* :mod:`.tables`, :mod:`.drawings`, :mod:`.notes`: a replaced sheet's tables, charts,
  header notes (comments + VML);
* :mod:`.workbookxml`: ``workbook.xml``, ``.rels`` and ``[Content_Types].xml`` edits;
* :mod:`.plan`: deciding the splice (nothing written); :mod:`.splice`: writing it;
  :mod:`.zipcopy`: the raw copy of an unchanged entry.
"""

from .opc import package_parts, sheet_kinds, sheet_names
from .rows import RowAppend
from .splice import FinishLast, check_splice, splice_sheets
from .workbookxml import OWNED_PREFIX

# the writer's text encoding: fingerprint.py encodes cells exactly as they are written
from .xmltext import _text as _text  # noqa: F401

__all__ = ["OWNED_PREFIX", "FinishLast", "RowAppend", "check_splice", "package_parts", "sheet_kinds",
           "sheet_names", "splice_sheets"]
