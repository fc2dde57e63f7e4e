"""An opened workbook package: the file read once, checked once, its structure parsed once.

:class:`Package` reads the ``.xlsx``/``.xlsm`` file's bytes once (one ``open``), opens one
in-memory zip over them, and refuses, naming the file and the entry, anything no reader can
trust: not a zip (a legacy or encrypted file, CSV…), a zip bomb, two entries of the same name
or of names that differ only in case (OPC part names are case-insensitive: a reader would take
one and the user sees the other), entry names with backslashes, entries compressed with a
method other than stored or deflate (what Excel writes; Deflate64 and friends are read by some
programs and not others), an XML part declaring a DTD (entity expansion), a Strict Open XML
workbook. It then parses ``[Content_Types].xml``, the workbook's relationships and
``xl/workbook.xml`` once, and offers the sheets' names, kinds and parts, each part's bytes
(cached) and a file-like for python-calamine. Every reader and check of a command takes the
same Package: nothing reopens the file.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import stat
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any

from defusedxml import ElementTree

from ..errors import UnreadableWorkbook
from ..i18n import _

#: Limits that keep a hostile or accidental giant file from exhausting memory: the package may
#: unpack to at most MAX_UNCOMPRESSED_BYTES, and to at most MAX_COMPRESSION_RATIO times its
#: packed size once it unpacks to more than 50 MB (real workbooks compress 5-20x; a zip bomb
#: thousands of times).
MAX_UNCOMPRESSED_BYTES = 1_000_000_000
MAX_COMPRESSION_RATIO = 200

DTD_REFUSED = ("holds an XML document type declaration (DTD), which workbook parts never have: "
               "refused as a possible entity-expansion attack")

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
NS_STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"

WORKBOOK_PART = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"

#: Zip compression methods by number, for the message refusing them.
_METHODS = {1: "Shrink", 6: "Implode", 9: "Deflate64", 12: "bzip2", 14: "LZMA",
            93: "Zstandard", 95: "xz", 96: "JPEG", 97: "WavPack", 98: "PPMd", 99: "AES"}

#: where an XML prolog ends: the root element's start tag
_PROLOG_END = re.compile(r"<[A-Za-z_]")


def unreadable_reason(what: str, error: BaseException, failed: str = "") -> str:
    """One line saying why ``what`` (``"sheet 'Data'"``, ``"the workbook"``) could not be read;
    ``failed`` replaces the default ``"<what> cannot be read"`` before the error's own text."""
    from defusedxml import DefusedXmlException

    cause: BaseException | None = error
    while cause is not None:   # openpyxl wraps the parser's error in its own
        if isinstance(cause, DefusedXmlException):
            return f"{what} {DTD_REFUSED}"
        cause = cause.__cause__ or cause.__context__
    detail = " ".join(str(error).split()) or type(error).__name__
    return _("{failed} ({detail})").format(
        failed=failed or _("{what} cannot be read").format(what=what), detail=detail)


def _read_file(p: Path) -> bytes:
    """The bytes of the file at ``p`` (one open), or :class:`UnreadableWorkbook` saying why not."""
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise UnreadableWorkbook(str(p), _("no such file")) from None
    except OSError as e:
        raise UnreadableWorkbook(str(p), _("cannot be opened ({reason})").format(
            reason=e.strerror)) from e
    if stat.S_ISDIR(st.st_mode):
        raise UnreadableWorkbook(str(p), _("is a folder, not a workbook"))
    if not stat.S_ISREG(st.st_mode):   # a named pipe would block the reader forever
        raise UnreadableWorkbook(str(p), _("is not a regular file (a named pipe, a device…): "
                                           "give the workbook file itself"))
    if st.st_size > MAX_UNCOMPRESSED_BYTES:   # it would unpack to more: never read it whole
        raise UnreadableWorkbook(str(p), _("is {size} bytes (limit {limit} unpacked): refused "
                                           "as too large a workbook").format(
                                               size=f"{st.st_size:,}",
                                               limit=f"{MAX_UNCOMPRESSED_BYTES:,}"))
    try:
        with open(p, "rb") as f:
            return f.read()
    except OSError as e:
        raise UnreadableWorkbook(str(p), _("cannot be opened ({reason})").format(
            reason=e.strerror)) from e


class Package:
    """The workbook package at ``path``, read and checked (module docstring).

    Usable as a context manager; :meth:`close` releases the bytes. Raises
    :class:`~xl_aiindex.errors.UnreadableWorkbook` naming the file (and the part) when the
    package is not one the readers can trust.
    """

    def __init__(self, path: str | os.PathLike[str], data: bytes | None = None):
        """Open the workbook at ``path``; ``data``: its bytes when already in memory (a package
        just built), then ``path`` only names it in messages and nothing is read from disk."""
        self.path = Path(path)
        self.data = _read_file(self.path) if data is None else data
        self._parts: dict[str, bytes] = {}
        self._check_head()
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(self.data))
            self.infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise UnreadableWorkbook(str(self.path), f"is a damaged zip package ({e})") from e
        self.names = [i.filename for i in self.infos]
        self._by_lower = {n.lower(): n for n in self.names}
        self._check_entries()
        self._check_dtds()
        self.content_types = self._parse_content_types()
        self._sheets = self._parse_workbook()

    # ---------------------------------------------------------------------------------------
    # the checks

    def _refuse(self, reason: str) -> UnreadableWorkbook:
        return UnreadableWorkbook(str(self.path), reason)

    def _check_head(self) -> None:
        head = self.data[:8]
        if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
            raise self._refuse(_("is a password-protected workbook or a legacy .xls file (OLE2 "
                                 "format): save it unencrypted as .xlsx"))
        if not head.startswith(b"PK"):
            if not head:
                raise self._refuse(_("is an empty file, not an .xlsx/.xlsm workbook"))
            if all(32 <= b < 127 or b in (9, 10, 13) for b in head):
                raise self._refuse(_("is a text file (CSV?), not an .xlsx/.xlsm workbook"))
            raise self._refuse(_("is not a zip package, not an .xlsx/.xlsm workbook"))

    def _check_entries(self) -> None:
        """Names, compression and sizes of the zip entries (module docstring)."""
        twice = sorted(n for n, k in Counter(self.names).items() if k > 1)
        if twice:
            raise self._refuse(f"holds two zip entries named '{twice[0]}': a damaged or "
                               "tampered package (refused, as Excel refuses it)")
        by_case: dict[str, list[str]] = {}
        for n in self.names:
            by_case.setdefault(n.lower(), []).append(n)
        clash = sorted(v for v in by_case.values() if len(v) > 1)
        if clash:
            a, b = sorted(clash[0])[:2]
            raise self._refuse(f"holds two zip entries whose names differ only in case ('{a}' "
                               f"and '{b}'; part names ignore case, so a program would read "
                               "either one): a damaged or tampered package (refused)")
        for info in self.infos:
            if "\\" in info.orig_filename:
                raise self._refuse(f"holds a zip entry named '{info.orig_filename}' with "
                                   "backslashes, which a package never has (programs read it "
                                   "differently): a damaged package; save it again in Excel")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                method = _METHODS.get(info.compress_type, "an unknown method")
                raise self._refuse(f"zip entry '{info.filename}' is compressed with {method} "
                                   f"(method {info.compress_type}), which Excel never writes "
                                   "and not every reader can unpack: save the workbook again "
                                   "in Excel (or re-zip it with deflate)")
            if info.flag_bits & 0x1:
                raise self._refuse(f"zip entry '{info.filename}' is encrypted: save the "
                                   "workbook unencrypted as .xlsx")
        if WORKBOOK_PART not in self._by_lower:
            raise self._refuse(_("is a zip package but not an Excel workbook (no "
                                 "xl/workbook.xml)"))
        total = sum(i.file_size for i in self.infos)
        packed = sum(i.compress_size for i in self.infos) or 1
        if total > MAX_UNCOMPRESSED_BYTES or \
                total / packed > MAX_COMPRESSION_RATIO and total > 50_000_000:
            raise self._refuse(f"unpacks to {total:,} bytes (limit {MAX_UNCOMPRESSED_BYTES:,}; "
                               f"compression ratio {total / packed:.0f}): refused as a possible "
                               "zip bomb")

    def _check_dtds(self) -> None:
        part = part_with_dtd(self._zip)
        if part is not None:
            raise self._refuse(f"part {part} {DTD_REFUSED}")

    def _xml(self, part: str) -> Any:
        """The parsed XML of ``part`` (an entry that exists), refusing what does not parse."""
        data = self.read(part)
        try:
            return ElementTree.fromstring(data)
        except Exception as e:   # ParseError, defusedxml's refusals
            raise self._refuse(unreadable_reason(f"part {self.actual(part) or part}", e)) from e

    def _parse_content_types(self) -> dict[str, str]:
        name = self.actual("[Content_Types].xml")
        if name is None:
            return {}
        root = self._xml(name)
        out: dict[str, str] = {}
        for el in root:
            if el.tag == f"{{{NS_CT}}}Override":
                out[el.get("PartName", "").lstrip("/").lower()] = el.get("ContentType", "")
            elif el.tag == f"{{{NS_CT}}}Default":
                out["." + el.get("Extension", "").lower()] = el.get("ContentType", "")
        return out

    def _parse_workbook(self) -> list[tuple[str, str, str | None]]:
        """``(name, kind, part)`` of each sheet, in workbook order."""
        wb = self.actual(WORKBOOK_PART) or WORKBOOK_PART
        root = self._xml(wb)
        if root.tag == f"{{{NS_STRICT_MAIN}}}workbook":
            raise self._refuse(_("is a Strict Open XML workbook (part {part}), which is not "
                                 "supported: save it as Excel Workbook (.xlsx)").format(part=wb))
        if root.tag != f"{{{NS_MAIN}}}workbook":
            raise self._refuse(f"part {wb} is not a SpreadsheetML workbook ({root.tag})")
        rels_name = self.actual(WORKBOOK_RELS)
        targets: dict[str, tuple[str, str]] = {}
        if rels_name is not None:
            for r in self._xml(rels_name).iter(f"{{{NS_PKG}}}Relationship"):
                targets[r.get("Id", "")] = (r.get("Type", ""), r.get("Target", ""))
        sheets = root.find(f"{{{NS_MAIN}}}sheets")
        out: list[tuple[str, str, str | None]] = []
        for el in [] if sheets is None else sheets:
            rel = targets.get(el.get(f"{{{NS_REL}}}id", ""))
            name = el.get("name", "")
            if rel is None:
                out.append((name, "missing", None))
                continue
            kind = rel[0].rpartition("/")[2]
            target = rel[1].split("#", 1)[0]
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join("xl", target))
            actual = self.actual(part)
            out.append((name, "missing", part) if actual is None else (name, kind, actual))
        return out

    # ---------------------------------------------------------------------------------------
    # what the readers use

    def actual(self, part: str) -> str | None:
        """The zip entry name of ``part`` (part names ignore case), None when absent."""
        return self._by_lower.get(part.lstrip("/").lower())

    def read(self, part: str) -> bytes:
        """The uncompressed bytes of ``part`` (cached); :class:`UnreadableWorkbook` naming the
        part when it is absent or cannot be unpacked."""
        name = self.actual(part)
        if name is None:
            raise self._refuse(f"part {part} is missing from the package")
        data = self._parts.get(name)
        if data is None:
            try:
                data = self._zip.read(name)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError,
                    NotImplementedError, zlib.error) as e:
                raise self._refuse(unreadable_reason(f"part {name}", e)) from e
            self._parts[name] = data
        return data

    def head(self, part: str, size: int = 4) -> bytes:
        """The first ``size`` bytes of ``part`` (b"" when absent or unreadable), unpacking no
        more than that."""
        name = self.actual(part)
        if name is None:
            return b""
        if name in self._parts:
            return self._parts[name][:size]
        try:
            with self._zip.open(name) as fh:
                return fh.read(size)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, zlib.error):
            return b""

    def sheet_names(self) -> list[str]:
        """Every sheet's name, in workbook order (worksheets, chart sheets, …)."""
        return [n for n, _, _ in self._sheets]

    def kinds(self) -> dict[str, str]:
        """Each sheet's kind by name, in workbook order: ``worksheet``, ``chartsheet``,
        ``dialogsheet``, ``xlMacrosheet``, ``xlIntlMacrosheet`` (the relationship type's last
        part), ``missing`` when its part is not in the package."""
        return {n: k for n, k, _ in self._sheets}

    def kind(self, name: str) -> str:
        """The kind of sheet ``name`` (:meth:`kinds`; ``worksheet`` for an unknown name)."""
        return self.kinds().get(name, "worksheet")

    def sheet_parts(self) -> dict[str, str]:
        """Sheet name -> its part's entry name (sheets whose part is missing left out)."""
        return {n: p for n, k, p in self._sheets if p is not None and k != "missing"}

    def part(self, name: str) -> str | None:
        """The entry name of sheet ``name``'s part (None: no such sheet, or no part)."""
        return self.sheet_parts().get(name)

    def part_sums(self, name: str) -> tuple[int, int] | None:
        """The CRC-32 and uncompressed size the zip's central directory gives for sheet
        ``name``'s part (nothing is unpacked); None when the sheet has no part."""
        part = self.part(name)
        if part is None:
            return None
        info = self._zip.getinfo(part)
        return info.CRC, info.file_size

    def missing_part(self, name: str) -> str:
        """Why sheet ``name`` has no content: one line for an error message."""
        where = next((p for n, _, p in self._sheets if n == name), None)
        return (_("sheet '{sheet}' has no content part ({part} is not in the package): a "
                  "damaged package; save it again in Excel") if where else
                _("sheet '{sheet}' has no content part (its relationship is missing): a damaged "
                  "package; save it again in Excel")).format(sheet=name, part=where)

    def filelike(self) -> io.BytesIO:
        """A fresh file-like over the package's bytes (python-calamine, the splice)."""
        return io.BytesIO(self.data)

    def is_macro_enabled(self) -> bool:
        """Whether the workbook part's content type is a macro-enabled one."""
        ct = self.content_types.get(WORKBOOK_PART, "")
        return "macroEnabled.main+xml" in ct or "addin.macroEnabled" in ct

    def close(self) -> None:
        """Release the package's bytes and parts."""
        self._zip.close()
        self._parts.clear()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def part_with_dtd(z: zipfile.ZipFile) -> str | None:
    """The first XML part of the package whose prolog declares a DTD (the place entities are
    declared: "billion laughs" and friends), if any. Only the prolog is read (up to the root
    element, at most 64 KiB per part); the XML parsers refuse entities anywhere else."""
    try:
        for info in z.infolist():
            if not info.filename.lower().endswith((".xml", ".rels")) or info.is_dir():
                continue
            with z.open(info) as fh:
                head = fh.read(1 << 16)
            utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
            text = head.decode("utf-16" if utf16 else "utf-8", "ignore")
            prolog = _PROLOG_END.split(text, maxsplit=1)[0].upper()
            if "<!DOCTYPE" in prolog or "<!ENTITY" in prolog:
                return info.filename
    except (OSError, zipfile.BadZipFile, EOFError, ValueError, RuntimeError, zlib.error):
        return None   # the reader says what is wrong with the package
    return None


def check_package(path: str | os.PathLike[str]) -> None:
    """Raise :class:`UnreadableWorkbook` unless ``path`` is a readable .xlsx/.xlsm package
    (:class:`Package`'s checks)."""
    Package(path).close()
