"""Spreadsheet downloads written safely and streamed in constant memory. Used by every export (the
follow-up's, the queue's).

- Rows are read through a server-side cursor inside a transaction (:func:`server_side_rows`), a chunk
  at a time, while the response is being sent.
- CSV is written by the ``csv`` module row by row and sent in chunks of about ``STREAM_CHUNK_BYTES``.
- XLSX of report rows (:func:`xlsx_stream`) is a genuinely streamed workbook: XlsxWriter writes the
  workbook's frame (content types, relationships, styles, the header row, column widths) for an empty
  sheet, the rows are written into the sheet's ``<sheetData>`` as they are read, and the standard
  library's ``zipfile`` deflates the parts straight into the response (data descriptors, no seeking).
  No temporary file; the first bytes leave before the first row is read.
- The follow-up's statistics (a few small tables of aggregates, several sheets) are written by
  XlsxWriter into a temporary file that the response streams (:class:`XlsxFile`).
"""

import csv
import datetime
import io
import math
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import xlsxwriter
from django.db import transaction
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from xlsxwriter.utility import xl_col_to_name

#: Rows fetched from the server-side cursor at a time.
CHUNK_SIZE = 2000
#: About this many bytes are sent at a time (a chunk per row would be a write per row).
STREAM_CHUNK_BYTES = 64 * 1024
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV file writes its separator and decimals. Excel with Swedish regional settings reads ";"
    and a decimal comma; most other programs (and Excel elsewhere) read "," and a decimal point."""

    name: str
    delimiter: str
    decimal: str


SWEDISH = CsvDialect("sv", ";", ",")
INTERNATIONAL = CsvDialect("int", ",", ".")

#: A text cell starting with one of these is read as a formula by Excel and LibreOffice (CSV
#: injection: ``=HYPERLINK(…)``, ``@SUM(…)``, ``-2+3``; tab and CR as well).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
    """A text cell that a spreadsheet would run as a formula, made plain text with a leading ``'``
    (OWASP's advice; the apostrophe is not shown). Numbers, dates and other text pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class Echo:
    def write(self, value):
        return value


def csv_stream(rows: Iterable[list], dialect: CsvDialect = SWEDISH) -> Iterator[str]:
    """Every CSV the product writes goes through here: each text cell neutralised. The first row (the
    header) is sent at once, the others in chunks of about ``STREAM_CHUNK_BYTES``."""
    rows = iter(rows)
    try:
        yield from _csv_chunks(rows, dialect)
    finally:
        _close(rows)


def _close(rows: Iterator) -> None:
    """Close a generator of database rows as soon as its response is closed (the client may have gone
    away), so its transaction ends then and not when the generator is garbage collected."""
    if hasattr(rows, "close"):
        rows.close()


def _csv_chunks(rows: Iterator[list], dialect: CsvDialect) -> Iterator[str]:
    writer = csv.writer(Echo(), delimiter=dialect.delimiter)
    buffer = ["\ufeff"]  # BOM so Excel reads UTF-8
    size, first = 0, True
    for row in rows:
        line = writer.writerow([neutralise_formula(value) for value in row])
        buffer.append(line)
        size += len(line)
        if first or size >= STREAM_CHUNK_BYTES:
            yield "".join(buffer)
            buffer.clear()
            size, first = 0, False
    if buffer:
        yield "".join(buffer)


def csv_value(value, dialect: CsvDialect = SWEDISH):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value).replace(".", dialect.decimal)
    return value


def sheet_title(title: str) -> str:
    return "".join(ch for ch in str(title) if ch not in "[]:*?/\\")[:31]


class XlsxFile:
    """An XLSX download built with XlsxWriter in constant-memory mode (rows go to temporary files as
    they are written; the workbook is assembled into a temporary file on close) and served by
    ``FileResponse``, which streams and closes it.

    Every text is written as text (``write_string``): a description starting with ``=`` or holding a
    web address stays plain text, never a formula or a link. Dates and times get date formats;
    ``""`` and ``None`` leave the cell empty."""

    def __init__(self, name: str):
        self.name = name
        self.handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
        self.workbook = xlsxwriter.Workbook(self.handle, {"constant_memory": True})
        self.bold = self.workbook.add_format({"bold": True})
        self.date = self.workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = self.workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.response = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is not None:
            self.handle.close()
            return False
        self.workbook.close()
        self.handle.seek(0)
        self.response = FileResponse(
            self.handle, as_attachment=True, filename=self.name, content_type=XLSX_CONTENT_TYPE
        )
        return False

    def sheet(self, title):
        return self.workbook.add_worksheet(sheet_title(title))

    def write_row(self, sheet, row: int, values, *, header: bool = False) -> None:
        for column, value in enumerate(values):
            if header:
                sheet.write_string(row, column, value, self.bold)
            elif value is None or value == "":
                continue
            elif isinstance(value, datetime.datetime):
                if timezone.is_aware(value):  # spreadsheets have no time zones: Swedish wall-clock time
                    value = timezone.localtime(value).replace(tzinfo=None)
                sheet.write_datetime(row, column, value, self.datetime)
            elif isinstance(value, datetime.date):
                sheet.write_datetime(row, column, value, self.date)
            elif isinstance(value, bool):
                sheet.write_boolean(row, column, value)
            elif isinstance(value, int | float):
                sheet.write_number(row, column, value)
            else:
                sheet.write_string(row, column, str(value))


def attachment(response, name: str):
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def csv_response(rows: Iterable[list], name: str, dialect: CsvDialect = SWEDISH) -> StreamingHttpResponse:
    """A streamed CSV download of ``rows`` (lists of values) named ``name``."""
    return attachment(
        StreamingHttpResponse(csv_stream(rows, dialect), content_type="text/csv; charset=utf-8"), name
    )


def row_converter(columns, choices: dict):
    """A function turning a ``values_list`` row (in ``columns`` order: ``(label, key)`` pairs) into
    export values: the labels of coded columns (``choices``: key -> ``(value, label)`` pairs), local
    wall-clock time for timestamps (spreadsheets have no time zones), "" for missing values.

    Labels and the time zone are looked up once per export, not once per row and cell."""
    keys = [key for _label, key in columns]
    labels = {
        keys.index(key): {value: str(label) for value, label in pairs} for key, pairs in choices.items()
    }
    tz = timezone.get_current_timezone()

    def convert(row: tuple) -> list:
        values = [
            ""
            if v is None
            else v.astimezone(tz).replace(tzinfo=None)
            if isinstance(v, datetime.datetime)
            else v
            for v in row
        ]
        for i, names in labels.items():
            values[i] = str(names.get(row[i], row[i]))
        return values

    return convert


def server_side_rows(queryset, *, chunk_size: int | None = None) -> Iterator:
    """The rows of ``queryset`` (any iterable queryset: ``values_list`` rows here) read ``chunk_size`` at
    a time through a server-side cursor declared inside a transaction, on the database the router chose
    for it (the replica inside :func:`config.db_routing.use_replica`).

    Inside a transaction the cursor is an ordinary ``DECLARE … CURSOR`` (not ``WITH HOLD``): PostgreSQL
    produces the rows as they are fetched (a ``WITH HOLD`` cursor, what ``QuerySet.iterator()`` declares
    in autocommit mode, is materialised whole when its transaction commits, so the first row would wait
    for the last), and behind PgBouncer in transaction mode the transaction keeps the cursor on one
    server connection. That is why this ignores ``DISABLE_SERVER_SIDE_CURSORS``, which the settings set
    for pooled connections: it forbids the holdable cursors only. The transaction ends when the rows
    are exhausted or the generator is closed (the client went away)."""
    alias = queryset.db
    with transaction.atomic(using=alias):
        # QuerySet.iterator() with chunked fetches forced on: the queryset's own iterable (values_list
        # rows, converters applied) over a named cursor.
        yield from queryset._iterable_class(queryset, chunked_fetch=True, chunk_size=chunk_size or CHUNK_SIZE)


def table_rows(columns, rows, *, choices: dict) -> Iterator[list]:
    """Export values of ``rows`` (a ``values_list`` queryset in ``columns`` order), read as they are sent."""
    convert = row_converter(columns, choices)
    for row in server_side_rows(rows):
        yield convert(row)


def table_csv(
    columns, rows, *, choices: dict, name: str, dialect: CsvDialect = SWEDISH
) -> StreamingHttpResponse:
    """A streamed CSV of ``rows`` (a ``values_list`` queryset in ``columns`` order)."""

    def lines():
        yield [str(label) for label, _key in columns]
        for values in table_rows(columns, rows, choices=choices):
            yield [
                v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime.datetime) else csv_value(v, dialect)
                for v in values
            ]

    return csv_response(lines(), name, dialect)


def table_xlsx(columns, rows, *, choices: dict, name: str, title: str) -> StreamingHttpResponse:
    """``rows`` (a ``values_list`` queryset in ``columns`` order) as one XLSX sheet, streamed while the
    rows are read (:func:`xlsx_stream`): the first bytes leave at once and memory stays constant
    whatever the number of rows."""
    header = [str(label) for label, _key in columns]
    stream = xlsx_stream(header, table_rows(columns, rows, choices=choices), title=title)
    return attachment(StreamingHttpResponse(stream, content_type=XLSX_CONTENT_TYPE), name)


# --- Streamed XLSX -------------------------------------------------------------------------------

#: Excel's limits: rows per sheet (more are not written, as XlsxWriter does) and UTF-16 units per cell.
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_STRING = 32_767
# zlib's fastest level: for an agreement-year (60,000 reports) 0.3 s of CPU instead of 1.4 s at the
# default level 6, for a file half as large again (15 MB instead of 10): CPU is what the server lacks.
XLSX_COMPRESS_LEVEL = 1
SHEET_PART = "xl/worksheets/sheet1.xml"
# Excel's serial dates count days from 1899-12-30 (for every date after February 1900).
EXCEL_EPOCH = datetime.datetime(1899, 12, 30)
# What XlsxWriter does with text in a cell (its _escape_control_characters): a literal "_x0041_" is
# escaped as "_x005F_x0041_", characters XML forbids become "_xHHHH_".
_LITERAL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
# Text that needs any of that, or XML's escapes (most text needs none).
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x")
_DIMENSION = re.compile(r"<dimension [^>]*/>")


def _column_width(label: str) -> float:
    return min(max(len(label) + 4, 12), 40)


@dataclass(frozen=True)
class _Frame:
    """Every part of an XLSX workbook but its sheet's rows, written by XlsxWriter: the parts before
    and after the sheet, the sheet's XML before and after the data rows, and the style indexes of the
    date and date-time cells."""

    before: list[tuple[str, bytes]]
    after: list[tuple[str, bytes]]
    sheet_head: bytes
    sheet_tail: bytes
    date_style: int
    datetime_style: int


def _frame(header: list[str], title: str) -> _Frame:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    date_time = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet = book.add_worksheet(sheet_title(title))
    sheet.freeze_panes(1, 0)
    for column, label in enumerate(header):
        sheet.set_column(column, column, _column_width(label))
        sheet.write_string(0, column, label, bold)
    # Style indexes for the data cells this module writes itself: XlsxWriter numbers a format when a
    # cell uses it (the header's bold is 1), and writes only numbered formats to styles.xml.
    styles = date._get_xf_index(), date_time._get_xf_index()
    book.close()
    before, after, sheet_xml = [], [], None
    with zipfile.ZipFile(buffer) as package:
        for info in package.infolist():
            data = package.read(info)
            if info.filename == SHEET_PART:
                sheet_xml = data.decode("utf-8")
            else:
                (before if sheet_xml is None else after).append((info.filename, data))
    # The <dimension> names the used range, unknown until the last row: it is optional, so it goes.
    head, end, tail = _DIMENSION.sub("", sheet_xml).partition("</sheetData>")
    return _Frame(before, after, head.encode(), (end + tail).encode(), *styles)


def _text_cell(reference: str, text: str) -> str:
    if len(text) > XLSX_MAX_STRING // 2:
        # Excel counts UTF-16 units; a surrogate pair cut in two is dropped.
        utf16 = text.encode("utf-16-le")
        if len(utf16) > 2 * XLSX_MAX_STRING:
            text = utf16[: 2 * XLSX_MAX_STRING].decode("utf-16-le", errors="ignore")
    if _SPECIAL.search(text):
        if "_x" in text:
            text = _LITERAL_ESCAPE.sub(r"_x005F\1", text)
        text = _CONTROL.sub(lambda match: f"_x{ord(match.group()):04X}_", text)
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{reference}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _serial(value: datetime.datetime) -> float:
    delta = value - EXCEL_EPOCH
    return delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400


class _RowWriter:
    """One ``<row>`` of the sheet's XML from a row of values, typed as XlsxFile writes them: text as
    inline text (never a formula or a link), numbers and booleans as such, dates and times as serial
    numbers with date formats (aware times in Swedish wall-clock time); ``""`` and ``None`` leave the
    cell empty."""

    def __init__(self, frame: _Frame, width: int):
        self.date = frame.date_style
        self.datetime = frame.datetime_style
        self.letters = [xl_col_to_name(column) for column in range(width)]

    def row(self, number: int, values) -> str:
        cells = []
        letters = self.letters
        while len(letters) < len(values):
            letters.append(xl_col_to_name(len(letters)))
        for column, value in enumerate(values):
            if value is None or value == "":
                continue
            reference = f"{letters[column]}{number}"
            if isinstance(value, str):
                cells.append(_text_cell(reference, value))
            elif isinstance(value, bool):
                cells.append(f'<c r="{reference}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int | float) and math.isfinite(value):
                cells.append(f'<c r="{reference}"><v>{value}</v></c>')
            elif isinstance(value, datetime.datetime):
                if timezone.is_aware(value):
                    value = timezone.localtime(value).replace(tzinfo=None)
                cells.append(f'<c r="{reference}" s="{self.datetime}"><v>{_serial(value)!r}</v></c>')
            elif isinstance(value, datetime.date):
                serial = (value - EXCEL_EPOCH.date()).days
                cells.append(f'<c r="{reference}" s="{self.date}"><v>{serial}</v></c>')
            else:
                cells.append(_text_cell(reference, str(value)))
        return f'<row r="{number}">{"".join(cells)}</row>'


class _Sink(io.RawIOBase):
    """A write-only, unseekable file for ``zipfile``: what it writes is taken out with :meth:`take`."""

    def __init__(self):
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def _part(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.compress_level = XLSX_COMPRESS_LEVEL
    return info


def xlsx_stream(header: list[str], rows: Iterable[list], *, title: str) -> Iterator[bytes]:
    """An XLSX workbook of one sheet (``title``): ``header`` in bold, frozen, then ``rows``, produced
    while ``rows`` is read. The parts before the sheet are sent before the first row is read; then
    about ``STREAM_CHUNK_BYTES`` of deflated sheet at a time."""
    rows = iter(rows)
    try:
        yield from _xlsx_parts(header, rows, title)
    finally:
        _close(rows)


def _xlsx_parts(header: list[str], rows: Iterator[list], title: str) -> Iterator[bytes]:
    frame = _frame(header, title)
    writer = _RowWriter(frame, len(header))
    sink = _Sink()
    # No ZIP64: Excel refuses streamed ZIP64 entries; a sheet of Excel's 1,048,576 rows of reports
    # stays far below the 2 GiB that zipfile then allows per entry.
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as package:
        for name, data in frame.before:
            package.writestr(_part(name), data)
        yield sink.take()
        with package.open(_part(SHEET_PART), "w") as member:
            member.write(frame.sheet_head)
            pending, size = [], 0
            for number, values in enumerate(rows, start=2):
                if number > XLSX_MAX_ROWS:
                    break
                xml = writer.row(number, values)
                pending.append(xml)
                size += len(xml)
                if size >= STREAM_CHUNK_BYTES:
                    member.write("".join(pending).encode())
                    pending, size = [], 0
                    if chunk := sink.take():
                        yield chunk
            member.write("".join(pending).encode())
            member.write(frame.sheet_tail)
        for name, data in frame.after:
            package.writestr(_part(name), data)
    yield sink.take()
