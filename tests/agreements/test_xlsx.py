"""The one-sheet XLSX writer of the report export (agreements/xlsx.py), read back with openpyxl."""

import datetime
import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.utils.datetime import to_excel

from agreements.xlsx import XlsxTableWriter, column_letter, excel_serial

ROWS = [
    ["Referens", "Datum", "Inkommen", "Antal", "Andel", "Tom", "Text"],
    [
        "SB-2026-00001",
        datetime.date(2026, 1, 1),
        datetime.datetime(2026, 1, 1, 0, 30),
        3,
        55.6,
        "",
        "Rad ett\r\nrad två & <tre> \"citat\" 'apostrof'",
    ],
    [
        "SB-2026-00002",
        datetime.date(1900, 1, 1),
        datetime.datetime(2026, 12, 31, 23, 59, 59),
        0,
        -1.5,
        None,
        " kant ",
    ],
]


def write(rows, title="Rapporter", header=True) -> bytes:
    buffer = io.BytesIO()
    with XlsxTableWriter(buffer, sheet_title=title) as sheet:
        for i, row in enumerate(rows):
            sheet.append(row, bold=header and i == 0)
    return buffer.getvalue()


def read(data: bytes):
    return load_workbook(io.BytesIO(data))


def test_values_types_and_formats_read_back_as_written():
    workbook = read(write(ROWS))
    assert workbook.sheetnames == ["Rapporter"]
    sheet = workbook["Rapporter"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(ROWS[0])
    assert rows[1] == (
        "SB-2026-00001",
        datetime.datetime(2026, 1, 1),
        datetime.datetime(2026, 1, 1, 0, 30),
        3,
        55.6,
        None,
        "Rad ett\r\nrad två & <tre> \"citat\" 'apostrof'",
    )
    assert rows[2][1:3] == (datetime.datetime(1900, 1, 1), datetime.datetime(2026, 12, 31, 23, 59, 59))
    assert rows[2][4:] == (-1.5, None, " kant ")
    assert all(cell.font.b for cell in sheet[1])
    assert not sheet["A2"].font.b
    assert sheet["B2"].is_date and sheet["B2"].number_format == "yyyy-mm-dd"
    assert sheet["C2"].is_date and sheet["C2"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet["D2"].data_type == "n" and sheet["A2"].data_type == "s"


def test_same_values_as_openpyxl_writes():
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Rapporter")
    for row in ROWS:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    theirs = list(read(buffer.getvalue())["Rapporter"].iter_rows(values_only=True))
    ours = list(read(write(ROWS))["Rapporter"].iter_rows(values_only=True))
    assert ours == theirs


def test_characters_xml_cannot_hold_are_dropped_not_fatal():
    workbook = read(write([["a\x00b\x0bc\x1fd\tе\n"]], header=False))
    assert workbook.active["A1"].value == "abcd\tе\n"


def test_sheet_title_loses_characters_excel_forbids_and_is_escaped():
    assert read(write([["x"]], title='Rapp/orter: "A&B" [2026]?')).sheetnames == ['Rapporter "A&B" 2026']


def test_a_large_table_is_a_valid_zip_with_every_row():
    rows = [
        [f"SB-{i:06d}", i, datetime.date(2026, 1, 1) + datetime.timedelta(days=i % 365)] for i in range(3000)
    ]
    data = write(rows, header=False)
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    values = list(read(data).active.iter_rows(values_only=True))
    assert len(values) == 3000
    assert values[-1] == (
        "SB-002999",
        2999,
        datetime.datetime(2026, 1, 1) + datetime.timedelta(days=2999 % 365),
    )


def test_an_error_while_writing_leaves_no_half_open_entry():
    buffer = io.BytesIO()
    with pytest.raises(RuntimeError), XlsxTableWriter(buffer, sheet_title="x") as sheet:
        sheet.append(["a"])
        raise RuntimeError


def test_aware_datetimes_are_refused():
    with pytest.raises(TypeError):
        write([[datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)]])


def test_column_letters():
    assert [column_letter(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]


@given(
    st.datetimes(min_value=datetime.datetime(1900, 1, 1), max_value=datetime.datetime(2200, 12, 31))
    | st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2200, 12, 31))
)
def test_serial_numbers_are_exactly_openpyxls(value):
    assert excel_serial(value) == to_excel(value)
