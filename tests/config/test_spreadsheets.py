"""The streamed spreadsheets (config/spreadsheets.py): the XLSX written while its rows are read opens in
openpyxl with the same cells as the workbook XlsxWriter built before, the first bytes leave before the
rows are read, closing the response closes the rows, and the rows come from a server-side cursor inside
a transaction even where the settings forbid server-side cursors (behind PgBouncer)."""

import csv
import datetime
import hashlib
import io
import zipfile
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.db import connection

from config import spreadsheets
from config.spreadsheets import XlsxFile, csv_stream, server_side_rows, xlsx_stream
from deviations.models import Deviation
from tests import factories

STOCKHOLM = ZoneInfo("Europe/Stockholm")
HEADER = ["Text", "Datum", "Tid", "Heltal", "Decimaltal", "Ja/nej", "Tom", "Ingen"]
ROWS = [
    [
        '=HYPERLINK("http://evil.example")+1',
        datetime.date(2026, 1, 1),
        datetime.datetime(2026, 1, 1, 0, 30),
        9,
        33.3,
        True,
        "",
        None,
    ],
    [
        " Se https://example.se\x01 & <b>_x0041_ ",
        datetime.date(1999, 12, 31),
        datetime.datetime(2026, 7, 1, 12, 0, tzinfo=datetime.UTC),  # 14:00 in Stockholm
        -1,
        0.0,
        False,
        "Vård & omsorg",
        "@SUM(1+1)",
    ],
]


def read_xlsx(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content))


def today_workbook(header, rows, title) -> bytes:
    """The workbook as the exports wrote it before they streamed: XlsxWriter, cell by cell."""
    with XlsxFile("x.xlsx") as book:
        sheet = book.sheet(title)
        book.write_row(sheet, 0, header, header=True)
        for number, row in enumerate(rows, start=1):
            book.write_row(sheet, number, row)
    return b"".join(book.response.streaming_content)


def cells(workbook):
    sheet = workbook.active
    return sheet.title, [
        [(c.value, c.data_type, c.number_format, c.is_date, bool(c.font.b)) for c in row]
        for row in sheet.iter_rows()
    ]


@pytest.mark.django_db
def test_streamed_xlsx_has_the_cells_xlsxwriter_wrote(settings):
    settings.TIME_ZONE = "Europe/Stockholm"
    streamed = b"".join(xlsx_stream(HEADER, iter(ROWS), title="Rapporter: [2026]"))
    assert zipfile.ZipFile(io.BytesIO(streamed)).testzip() is None
    assert cells(read_xlsx(streamed)) == cells(read_xlsx(today_workbook(HEADER, ROWS, "Rapporter: [2026]")))
    sheet = read_xlsx(streamed).active
    assert sheet.title == "Rapporter 2026"
    assert [c.value for c in sheet[1]] == HEADER and all(c.font.b for c in sheet[1])
    first, second = sheet[2], sheet[3]
    assert first[0].value.startswith("=HYPERLINK(") and first[0].data_type == "s"
    assert first[1].value == datetime.datetime(2026, 1, 1) and first[1].number_format == "yyyy-mm-dd"
    assert first[2].value == datetime.datetime(2026, 1, 1, 0, 30)
    assert first[2].number_format == "yyyy-mm-dd hh:mm"
    assert [first[3].value, first[4].value, first[5].value] == [9, 33.3, True]
    assert first[6].value is None and first[7].value is None
    # Whitespace, markup, control characters and literal escapes stay text as written.
    # (openpyxl leaves Excel's _xHHHH_ escapes of control characters as they are; Excel reads them.)
    assert second[0].value.startswith(" Se https://example.se_x0001_ & <b>") and second[0].hyperlink is None
    assert second[2].value == datetime.datetime(2026, 7, 1, 14, 0)
    # Frozen header row and column widths.
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width > 0


def test_streamed_xlsx_cuts_text_at_excels_limit_as_xlsxwriter_does():
    rows = [["a" * 40_000], ["😀" * 20_000]]
    streamed = cells(read_xlsx(b"".join(xlsx_stream(["Text"], iter(rows), title="R"))))
    assert streamed == cells(read_xlsx(today_workbook(["Text"], rows, "R")))
    assert [len(row[0][0]) for row in streamed[1][1:]] == [32_767, 16_383]


def test_streamed_xlsx_of_no_rows_is_a_header():
    sheet = read_xlsx(b"".join(xlsx_stream(HEADER, iter([]), title="Tom"))).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [HEADER]


class CountingRows:
    """Rows handed out one by one, counting how many were taken; texts that compress like real ones."""

    def __init__(self, count: int):
        self.count = count
        self.taken = 0
        self.closed = False

    def __iter__(self):
        return self.rows()

    def rows(self):
        try:
            for number in range(self.count):
                self.taken += 1
                text = hashlib.sha256(str(number).encode()).hexdigest()
                yield [f"SB-2026-{number:05d}", datetime.date(2026, 1, 1), number, text]
        finally:
            self.closed = True


@pytest.mark.parametrize(
    "stream",
    [
        lambda rows: xlsx_stream(["Ref", "Datum", "Nr", "Text"], rows, title="Rapporter"),
        lambda rows: (chunk.encode() for chunk in csv_stream(rows)),
    ],
    ids=["xlsx", "csv"],
)
def test_the_first_bytes_leave_before_the_rows_are_read(stream, monkeypatch):
    monkeypatch.setattr(spreadsheets, "STREAM_CHUNK_BYTES", 4096)
    rows = CountingRows(3000)
    taken_at_chunk = []
    content = []
    for chunk in stream(iter(rows)):
        taken_at_chunk.append(rows.taken)
        content.append(chunk)
    # The first chunk (the workbook's frame before any row is read; the CSV's BOM and first row, its
    # header) is sent at once; then chunks of a bounded size follow while the rows are read.
    assert taken_at_chunk[0] <= 1
    assert len(taken_at_chunk) > 5
    assert taken_at_chunk[len(taken_at_chunk) // 2] < rows.count
    assert max(len(chunk) for chunk in content) < sum(len(chunk) for chunk in content) / 4
    assert rows.taken == rows.count


def test_streamed_csv_keeps_dialect_and_neutralises_formulas():
    rows = [["Ref", "Text"], ["SB-1", "=1+1"], ["SB-2", "1,5"]]
    text = "".join(csv_stream(rows, spreadsheets.INTERNATIONAL))
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text[1:]))) == [["Ref", "Text"], ["SB-1", "'=1+1"], ["SB-2", "1,5"]]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_closing_the_response_closes_the_rows(fmt, monkeypatch):
    monkeypatch.setattr(spreadsheets, "STREAM_CHUNK_BYTES", 1024)
    rows = CountingRows(3000)
    source = iter(rows)
    stream = xlsx_stream(["Ref"], source, title="R") if fmt == "xlsx" else csv_stream(source)
    next(stream), next(stream)
    stream.close()  # what the response does when the client goes away
    assert rows.closed and rows.taken < rows.count


def open_cursors() -> list[tuple[str, bool]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, is_holdable FROM pg_cursors WHERE name LIKE '_django_curs_%%'")
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("disabled", [False, True], ids=["direct", "behind-pgbouncer"])
def test_rows_come_from_a_cursor_inside_a_transaction(disabled, monkeypatch):
    # Behind PgBouncer the settings forbid Django's WITH HOLD cursors (DISABLE_SERVER_SIDE_CURSORS);
    # the exports' cursor is declared inside a transaction, which transaction pooling keeps together.
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", disabled)
    factories.DeviationFactory.create_batch(3)
    queryset = Deviation.objects.order_by("pk").values_list("reference", "reported_on")
    rows = server_side_rows(queryset, chunk_size=1)
    first = next(rows)
    assert isinstance(first[1], datetime.date)
    assert connection.in_atomic_block
    assert [holdable for _name, holdable in open_cursors()] == [False]
    assert len([first, *rows]) == 3
    assert not connection.in_atomic_block and open_cursors() == []
    # Closed half-way (the client went away), the cursor and the transaction end at once.
    rows = server_side_rows(queryset, chunk_size=1)
    next(rows)
    rows.close()
    assert not connection.in_atomic_block and open_cursors() == []


@pytest.mark.django_db
def test_rows_closed_half_way_inside_a_transaction_leave_it_usable():
    factories.DeviationFactory.create_batch(2)
    rows = server_side_rows(Deviation.objects.order_by("pk").values_list("reference"), chunk_size=1)
    next(rows)
    rows.close()
    assert Deviation.objects.count() == 2
