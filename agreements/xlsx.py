"""A small, fast writer of one-sheet XLSX files for large tables (the follow-up's report export).

openpyxl builds a cell object and an lxml element for every value, about 10 µs a cell: an
agreement-year at a million reports is 61,000 rows × 22 columns, and its export took 13 s of CPU
(bench/RESULTS.md). Here a row becomes one string and is deflated into the sheet's zip entry as it
comes, so time is close to the CSV export's and memory stays constant whatever the number of rows.

The file has what a spreadsheet needs and nothing more: content types, relationships, a workbook
with one sheet, styles (bold header, dates, dates with time) and the sheet with inline strings, as
openpyxl's write-only mode writes them. Cells:

- ``str``: text; characters XML 1.0 cannot hold (control characters other than tab, line feed and
  carriage return) are dropped, where openpyxl refused the whole file;
- ``int``, ``float``: numbers (``bool`` as TRUE/FALSE);
- ``datetime.date``: a date, shown ``yyyy-mm-dd``; ``datetime.datetime`` (naive, local time): a date
  and time, shown ``yyyy-mm-dd hh:mm``; both as Excel serial numbers computed as openpyxl does;
- ``""`` and ``None``: no cell.

Write to a seekable file (a temporary file): every zip entry then carries its sizes in its local
header, which is what spreadsheet programs expect of an XLSX file.
"""

import datetime
import math
import re
import zipfile
from xml.sax.saxutils import escape

#: Excel's day 0 in the 1900 date system (openpyxl.utils.datetime.WINDOWS_EPOCH).
_EPOCH = datetime.datetime(1899, 12, 30)
_SECONDS_PER_DAY = 86400
#: Characters XML 1.0 does not allow, even escaped.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: Rows collected before they are written to the (deflating) zip entry.
_ROWS_PER_WRITE = 500

# Style indexes in ``_STYLES`` (cellXfs).
_BOLD, _DATE, _DATETIME = 1, 2, 3

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{title}" sheetId="1" r:id="rId1"/></sheets>'
    "</workbook>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"


def column_letter(index: int) -> str:
    """``0`` → ``A``, ``25`` → ``Z``, ``26`` → ``AA``."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def excel_serial(value: datetime.date) -> float:
    """Days since Excel's epoch, exactly as ``openpyxl.utils.datetime.to_excel`` computes them."""
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime.combine(value, datetime.time())
    days = (value - _EPOCH).days
    if 0 < days <= 60:  # Excel's 1900 leap-year bug
        days -= 1
    fraction = (
        value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 10**6
    ) / _SECONDS_PER_DAY
    return days + fraction


def _number(value: float) -> str:
    return "%.16g" % value  # as openpyxl's safe_string  # noqa: UP031


def _text(value: str) -> str:
    value = escape(_ILLEGAL.sub("", value)).replace("\r", "&#13;")
    if value != value.strip():
        return f'<t xml:space="preserve">{value}</t>'
    return f"<t>{value}</t>"


def _cell(ref: str, value, style: int = 0) -> str:
    """One ``<c>`` element, or "" for an empty cell."""
    s = f' s="{style}"' if style else ""
    if isinstance(value, str):
        return f'<c r="{ref}"{s} t="inlineStr"><is>{_text(value)}</is></c>' if value else ""
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return ""
        return f'<c r="{ref}"{s}><v>{_number(value)}</v></c>'
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            raise TypeError("Excel has no time zones: pass local, naive datetimes.")
        return f'<c r="{ref}" s="{style or _DATETIME}"><v>{_number(excel_serial(value))}</v></c>'
    if isinstance(value, datetime.date):
        return f'<c r="{ref}" s="{style or _DATE}"><v>{_number(excel_serial(value))}</v></c>'
    return _cell(ref, str(value), style)


class XlsxTableWriter:
    """Write rows of values to ``handle`` as a one-sheet XLSX file.

    Use as a context manager: the file is complete when the block ends without an error.
    """

    def __init__(self, handle, *, sheet_title: str, compresslevel: int = 6):
        title = _ILLEGAL.sub("", "".join(ch for ch in sheet_title if ch not in "[]:*?/\\"))[:31]
        self._zip = zipfile.ZipFile(
            handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel
        )
        self._zip.writestr("[Content_Types].xml", _CONTENT_TYPES)
        self._zip.writestr("_rels/.rels", _ROOT_RELS)
        self._zip.writestr("xl/workbook.xml", _WORKBOOK.format(title=escape(title, {'"': "&quot;"})))
        self._zip.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        self._zip.writestr("xl/styles.xml", _STYLES)
        # The sheet is the only large entry: written as rows come (zip64 only above 2 GiB of XML,
        # twice what Excel's 1,048,576 rows can hold in practice).
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w")
        self._sheet.write(_SHEET_HEAD.encode())
        self._rows: list[str] = []
        self._count = 0
        self._letters: list[str] = []

    def append(self, values, *, bold: bool = False) -> None:
        self._count += 1
        n = str(self._count)
        while len(self._letters) < len(values):
            self._letters.append(column_letter(len(self._letters)))
        style = _BOLD if bold else 0
        cells = "".join(
            _cell(letter + n, value, style) for letter, value in zip(self._letters, values, strict=False)
        )
        self._rows.append(f'<row r="{n}">{cells}</row>')
        if len(self._rows) >= _ROWS_PER_WRITE:
            self._flush()

    def _flush(self) -> None:
        self._sheet.write("".join(self._rows).encode())
        self._rows.clear()

    def close(self) -> None:
        self._flush()
        self._sheet.write(_SHEET_TAIL.encode())
        self._sheet.close()
        self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            self.close()
        else:  # leave no half-written entry open; the file is discarded anyway
            self._sheet.close()
            self._zip.close()
