"""Spreadsheet downloads written safely and in constant memory: CSV streamed row by row, XLSX written
by XlsxWriter in constant-memory mode into a temporary file that the response streams. Used by every
export (the follow-up's, the queue's)."""

import csv
import datetime
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

CHUNK_SIZE = 2000
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
    """Every CSV the product writes goes through here: each text cell neutralised."""
    writer = csv.writer(Echo(), delimiter=dialect.delimiter)
    yield "\ufeff"  # BOM so Excel reads UTF-8
    for row in rows:
        yield writer.writerow([neutralise_formula(value) for value in row])


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
        import xlsxwriter

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


def table_csv(
    columns, rows, *, choices: dict, name: str, dialect: CsvDialect = SWEDISH
) -> StreamingHttpResponse:
    """A streamed CSV of ``rows`` (a ``values_list`` queryset in ``columns`` order), read in chunks."""

    def lines():
        yield [str(label) for label, _key in columns]
        convert = row_converter(columns, choices)
        for row in rows.iterator(chunk_size=CHUNK_SIZE):
            yield [
                v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime.datetime) else csv_value(v, dialect)
                for v in convert(row)
            ]

    return csv_response(lines(), name, dialect)


def table_xlsx(columns, rows, *, choices: dict, name: str, title: str) -> FileResponse:
    """``rows`` (a ``values_list`` queryset in ``columns`` order) as one XLSX sheet, written row by row
    from ``.iterator(chunk_size=...)`` into a temporary file that the response then streams: memory
    stays constant whatever the number of rows."""
    with XlsxFile(name) as book:
        sheet = book.sheet(title)
        book.write_row(sheet, 0, [str(label) for label, _key in columns], header=True)
        convert = row_converter(columns, choices)
        for number, row in enumerate(rows.iterator(chunk_size=CHUNK_SIZE), start=1):
            book.write_row(sheet, number, convert(row))
    return book.response
