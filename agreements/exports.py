"""CSV, XLSX and PDF renderings of the follow-up: the same rows as the page, from the same selectors.

The report exports stream: CSV through ``StreamingHttpResponse``, XLSX written row by row by
``agreements.xlsx`` from ``.iterator(chunk_size=...)`` over ``values_list`` rows into a temporary file
the response streams, so memory stays constant whatever the number of reports. The statistics (a few
hundred rows) use openpyxl.
"""

import csv
import datetime
import tempfile
from collections.abc import Iterable, Iterator

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from deviations.models import YesNoUnknown
from deviations.workflow import Status

from .selectors import REPORT_COLUMNS, FollowUpStatistics, report_rows
from .xlsx import XlsxTableWriter

CHUNK_SIZE = 2000
CSV_DELIMITER = ";"  # what Excel with Swedish regional settings expects
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
                [_("Begärda yttranden"), responses["total"]],
                [_("Yttranden besvarade i tid"), responses["in_time"]],
                [_("Yttranden besvarade för sent"), responses["late"]],
                [_("Yttranden försenade, obesvarade"), responses["overdue"]],
                [_("Andel yttranden i tid (%)"), _num(responses["in_time_share"])],
                [_("Åtgärdade lokalt"), handling["resolved_locally"]],
                [_("Eskalerade"), handling["escalated"]],
                [_("Andel åtgärdade lokalt (%)"), _num(handling["resolved_locally_share"])],
                [_("Andel eskalerade (%)"), _num(handling["escalated_share"])],
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
            "headers": [_("Åtagande"), *count_share],
            "rows": [[r["label"], r["count"], _num(r["share"])] for r in stats.by_commitment],
        },
        {
            "title": _("Per organisationspar"),
            "headers": [_("Rapporterande organisation"), _("Motpart"), *count_share],
            "rows": [
                [r["reporting"], r["counterpart"], r["count_display"], _num(r["share_display"])]
                for r in stats.by_organization_pair
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


def _csv_stream(rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=CSV_DELIMITER)
    yield "\ufeff"  # BOM so Excel reads UTF-8
    for row in rows:
        yield writer.writerow(row)


def _csv_value(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def statistics_csv(stats: FollowUpStatistics) -> StreamingHttpResponse:
    def rows():
        for section in statistics_sections(stats):
            yield [section["title"]]
            yield section["headers"]
            for row in section["rows"]:
                yield [_csv_value(v) for v in row]
            yield []

    return _attachment(
        StreamingHttpResponse(_csv_stream(rows()), content_type="text/csv; charset=utf-8"),
        filename(stats, "statistik", "csv"),
    )


def statistics_xlsx(stats: FollowUpStatistics) -> FileResponse:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for section in statistics_sections(stats):
        sheet = workbook.create_sheet(title=_sheet_title(section["title"]))
        header = []
        for h in section["headers"]:
            cell = WriteOnlyCell(sheet, value=str(h))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in section["rows"]:
            sheet.append([_xlsx_cell(sheet, v) for v in row])
    return _xlsx_response(workbook, filename(stats, "statistik", "xlsx"))


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


def reports_csv(stats: FollowUpStatistics, qs) -> StreamingHttpResponse:
    def rows():
        yield [str(label) for label, _key in REPORT_COLUMNS]
        convert = _report_converter()
        for row in report_rows(qs).iterator(chunk_size=CHUNK_SIZE):
            yield [
                v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime.datetime) else _csv_value(v)
                for v in convert(row)
            ]

    return _attachment(
        StreamingHttpResponse(_csv_stream(rows()), content_type="text/csv; charset=utf-8"),
        filename(stats, "rapporter", "csv"),
    )


def reports_xlsx(stats: FollowUpStatistics, qs) -> FileResponse:
    """The reports as XLSX, written row by row (``agreements.xlsx``) into a temporary file that the
    response then streams: constant memory whatever the number of reports."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        with XlsxTableWriter(handle, sheet_title=_("Rapporter")) as sheet:
            sheet.append([str(label) for label, _key in REPORT_COLUMNS], bold=True)
            convert = _report_converter()
            for row in report_rows(qs).iterator(chunk_size=CHUNK_SIZE):
                sheet.append(convert(row))
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    name = filename(stats, "rapporter", "xlsx")
    return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX_CONTENT_TYPE)


def _xlsx_cell(sheet, value):
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, datetime.datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, datetime.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value if isinstance(value, int | float) or value == "" else str(value)


def _xlsx_response(workbook, name: str) -> FileResponse:
    # The write-only workbook keeps rows in temporary files; the result is spooled to disk too.
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook.save(handle)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX_CONTENT_TYPE)


def _attachment(response, name: str):
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
