"""CSV, XLSX and PDF renderings of the follow-up: the same rows as the page, from the same selectors.

The report exports stream: CSV through ``StreamingHttpResponse``, XLSX written row by row by
XlsxWriter (constant-memory mode) from ``.iterator(chunk_size=...)`` over ``values_list`` rows into a
temporary file the response streams, so memory stays constant whatever the number of reports.
"""

import csv
import datetime
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from deviations.models import YesNoUnknown
from deviations.workflow import Status

from .selectors import REPORT_COLUMNS, FollowUpStatistics, report_rows

CHUNK_SIZE = 2000


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV file writes its separator and decimals. Excel with Swedish regional settings reads ";"
    and a decimal comma; most other programs (and Excel elsewhere) read "," and a decimal point."""

    name: str
    delimiter: str
    decimal: str


SWEDISH = CsvDialect("sv", ";", ",")
INTERNATIONAL = CsvDialect("int", ",", ".")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _num(value):
    return "" if value is None else value


def statistics_sections(stats: FollowUpStatistics) -> list[dict]:
    """The statistics as titled tables ({"title", "headers", "rows"}), masked where ``stats.masked``."""
    count_share = [_("Antal"), _("Andel (%)")]
    summary = stats.summary
    durations = stats.durations
    responses = stats.responses
    handling = stats.handling
    sections = [
        {
            "title": _("Sammanfattning"),
            "headers": [_("Mått"), _("Värde")],
            "rows": [
                [_("Överenskommelse"), str(stats.agreement)],
                [_("Period"), f"{stats.period.start.isoformat()} – {stats.period.end.isoformat()}"],
                [_("Perioden avser"), stats.basis_label],
                [_("Område"), stats.scope.label],
                [_("Antal rapporter"), stats.total],
                [_("Öppna nu"), summary["open"]],
                [_("Med försenat yttrande nu"), summary["overdue"]],
                [_("Avslutade"), summary["closed"]],
                [_("Avvisade"), summary["rejected"]],
                [_("Gällde SIP"), summary["sip"]],
                [_("Gällde utskrivning från slutenvård"), summary["discharge"]],
                [_("Tid till första åtgärd, median (dagar)"), _num(durations["response"]["median_days"])],
                [
                    _("Tid till första åtgärd, 90:e percentil (dagar)"),
                    _num(durations["response"]["p90_days"]),
                ],
                [_("Tid till avslut, median (dagar)"), _num(durations["closure"]["median_days"])],
                [_("Tid till avslut, 90:e percentil (dagar)"), _num(durations["closure"]["p90_days"])],
                [_("Tid till motpartens yttrande, median (dagar)"), _num(durations["answer"]["median_days"])],
                [
                    _("Tid till motpartens yttrande, 90:e percentil (dagar)"),
                    _num(durations["answer"]["p90_days"]),
                ],
                [_("Begärda yttranden"), responses["total"]],
                [_("Yttranden besvarade i tid"), responses["in_time"]],
                [_("Yttranden besvarade för sent"), responses["late"]],
                [_("Yttranden försenade, obesvarade"), responses["overdue"]],
                [_("Andel yttranden i tid (%)"), _num(responses["in_time_share"])],
                [_("Åtgärdade lokalt"), handling["resolved_locally"]],
                [_("Eskalerade"), handling["escalated"]],
                [_("Andel åtgärdade lokalt (%)"), _num(handling["resolved_locally_share"])],
                [_("Andel eskalerade (%)"), _num(handling["escalated_share"])],
                [_("Med allvarlig eller mycket allvarlig följd"), summary["severe"]],
                [_("Med angivna bidragande faktorer"), stats.factor_tagged],
                [_("Uttaget"), stats.extracted_at],
            ],
        },
        {
            "title": _("Jämförelse"),
            "headers": [_("Mått"), _("Perioden"), _("Föregående period"), _("Förändring")],
            "rows": [
                [r["label"], _num(r["current"]), _num(r["previous"]), _num(r["change"])]
                for r in stats.comparison
            ],
        },
        {
            "title": _("Per månad"),
            "headers": [_("Månad"), *count_share],
            "rows": [[r["month"], r["count"], _num(r["share"])] for r in stats.by_month],
        },
        {
            "title": _("Per kategori"),
            "headers": [_("Kategori"), *count_share],
            "rows": [[r["label"], r["count"], _num(r["share"])] for r in stats.by_category],
        },
        {
            "title": _("Per åtagande"),
            "headers": [
                _("Åtagande"),
                *count_share,
                _("Föregående period"),
                _("Förändring"),
                _("Allvarlig följd"),
            ],
            "rows": [
                [
                    r["label"],
                    r["count"],
                    _num(r["share"]),
                    _num(r.get("previous")),
                    _num(r.get("change")),
                    r["severe"],
                ]
                for r in stats.commitments
            ],
        },
        {
            "title": _("Bidragande faktorer"),
            "headers": [_("Huvudfaktor"), _("Underfaktor"), *count_share],
            "rows": [
                row
                for r in stats.by_factor
                for row in [
                    [r["label"], "", r["count"], _num(r["share"])],
                    *[[r["label"], c["label"], c["count"], _num(c["share"])] for c in r["children"]],
                ]
            ],
        },
        {
            "title": _("Följd för personen"),
            "headers": [_("Grad"), *count_share],
            "rows": [[r["label"], r["count"], _num(r["share"])] for r in stats.by_severity],
        },
        *[
            {
                "title": title,
                "headers": [header, *count_share, _("Föregående period")],
                "rows": [
                    [
                        r["label"],
                        r["count_display"],
                        _num(r["share_display"]),
                        _num(r.get("previous_display")),
                    ]
                    for r in rows
                ],
            }
            for title, header, rows in (
                (_("Per samråd"), _("Samråd"), stats.by_council),
                (_("Per kommun"), _("Kommun"), stats.by_municipality),
            )
        ],
        {
            "title": _("Per organisationspar"),
            "headers": [
                _("Rapporterande organisation"),
                _("Motpart"),
                *count_share,
                _("Första åtgärd, medel (dagar)"),
                _("Begärda yttranden"),
                _("Yttrande, medel (dagar)"),
                _("Andel yttranden i tid (%)"),
            ],
            "rows": [
                [
                    r["reporting"],
                    r["counterpart"],
                    r["count_display"],
                    _num(p["share_display"]),
                    _num(r["first_action_days"]),
                    _num(r["requests"]),
                    _num(r["answer_days"]),
                    _num(r["in_time_share"]),
                ]
                for r, p in zip(stats.pair_times, stats.by_organization_pair, strict=True)
            ],
        },
        {
            "title": _("Per huvudmannapar"),
            "headers": [_("Huvudmän"), *count_share],
            "rows": [[r["label"], r["count"], _num(r["share"])] for r in stats.by_principal_pair],
        },
        {
            "title": _("Systemfrågor"),
            "headers": [
                _("Systemfråga"),
                _("Status"),
                _("Kopplade rapporter i perioden"),
                _("Beslutad åtgärd"),
                _("Ansvarig"),
                _("Klart senast"),
                _("Åtgärdens status"),
            ],
            "rows": _systemic_rows(stats),
        },
    ]
    return sections


def _systemic_rows(stats: FollowUpStatistics) -> list[list]:
    rows = []
    for issue in stats.systemic_issues:
        head = [issue.title, issue.get_state_display(), issue.linked]
        actions = list(issue.actions.all())
        if not actions:
            rows.append([*head, "", "", "", ""])
        for action in actions:
            rows.append(
                [*head, action.description, action.owner.name, action.due_on, action.get_state_display()]
            )
    return rows


def filename(stats: FollowUpStatistics, kind: str, extension: str) -> str:
    agreement = slugify(stats.agreement.code) or "overenskommelse"
    period = f"{stats.period.start.isoformat()}-{stats.period.end.isoformat()}"
    return f"uppfoljning-{agreement}-{period}-{kind}.{extension}"


class _Echo:
    def write(self, value):
        return value


#: A text cell starting with one of these is read as a formula by Excel and LibreOffice (CSV
#: injection: ``=HYPERLINK(…)``, ``@SUM(…)``, ``-2+3``; tab and CR as well).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
    """A text cell that a spreadsheet would run as a formula, made plain text with a leading ``'``
    (OWASP's advice; the apostrophe is not shown). Numbers, dates and other text pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_stream(rows: Iterable[list], dialect: CsvDialect) -> Iterator[str]:
    """Every CSV the product writes goes through here: each text cell neutralised."""
    writer = csv.writer(_Echo(), delimiter=dialect.delimiter)
    yield "\ufeff"  # BOM so Excel reads UTF-8
    for row in rows:
        yield writer.writerow([neutralise_formula(value) for value in row])


def _csv_value(value, dialect: CsvDialect):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value).replace(".", dialect.decimal)
    return value


def statistics_csv(stats: FollowUpStatistics, *, dialect: CsvDialect = SWEDISH) -> StreamingHttpResponse:
    def rows():
        for section in statistics_sections(stats):
            yield [section["title"]]
            yield section["headers"]
            for row in section["rows"]:
                yield [_csv_value(v, dialect) for v in row]
            yield []

    kind = "statistik" if dialect is SWEDISH else "statistik-int"
    return _attachment(
        StreamingHttpResponse(_csv_stream(rows(), dialect), content_type="text/csv; charset=utf-8"),
        filename(stats, kind, "csv"),
    )


def statistics_xlsx(stats: FollowUpStatistics) -> FileResponse:
    with _XlsxFile(filename(stats, "statistik", "xlsx")) as book:
        for section in statistics_sections(stats):
            sheet = book.sheet(section["title"])
            book.write_row(sheet, 0, [str(h) for h in section["headers"]], header=True)
            for number, row in enumerate(section["rows"], start=1):
                book.write_row(sheet, number, row)
    return book.response


def _sheet_title(title: str) -> str:
    return "".join(ch for ch in str(title) if ch not in "[]:*?/\\")[:31]


def _report_converter():
    """A function turning a ``report_rows`` row into export values: labels for status and yes/no codes,
    local wall-clock time for timestamps (spreadsheets have no time zones), "" for missing values.

    Labels and the time zone are looked up once per export, not once per row and cell."""
    keys = [key for _label, key in REPORT_COLUMNS]
    labels = {
        keys.index("status"): {value: str(label) for value, label in Status.choices},
        keys.index("sip_involved"): {value: str(label) for value, label in YesNoUnknown.choices},
        keys.index("discharge_involved"): {value: str(label) for value, label in YesNoUnknown.choices},
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


def reports_csv(stats: FollowUpStatistics, qs, *, dialect: CsvDialect = SWEDISH) -> StreamingHttpResponse:
    def rows():
        yield [str(label) for label, _key in REPORT_COLUMNS]
        convert = _report_converter()
        for row in report_rows(qs).iterator(chunk_size=CHUNK_SIZE):
            yield [
                v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime.datetime) else _csv_value(v, dialect)
                for v in convert(row)
            ]

    kind = "rapporter" if dialect is SWEDISH else "rapporter-int"
    return _attachment(
        StreamingHttpResponse(_csv_stream(rows(), dialect), content_type="text/csv; charset=utf-8"),
        filename(stats, kind, "csv"),
    )


def reports_xlsx(stats: FollowUpStatistics, qs) -> FileResponse:
    """The reports as XLSX, written row by row (XlsxWriter's constant-memory mode) from
    ``.iterator(chunk_size=...)``, into a temporary file that the response then streams: memory stays
    constant whatever the number of reports."""
    with _XlsxFile(filename(stats, "rapporter", "xlsx")) as book:
        sheet = book.sheet(_("Rapporter"))
        book.write_row(sheet, 0, [str(label) for label, _key in REPORT_COLUMNS], header=True)
        convert = _report_converter()
        for number, row in enumerate(report_rows(qs).iterator(chunk_size=CHUNK_SIZE), start=1):
            book.write_row(sheet, number, convert(row))
    return book.response


class _XlsxFile:
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
        return self.workbook.add_worksheet(_sheet_title(title))

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


def _attachment(response, name: str):
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
