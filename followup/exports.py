"""CSV, XLSX and PDF renderings of the follow-up: the same rows as the page, from the same selectors.

The report exports stream: their ``values_list`` rows are read through a server-side cursor while the
CSV or the XLSX workbook is being sent (``config.spreadsheets``), so the first bytes leave at once and
memory stays constant whatever the number of reports.
"""

from django.http import FileResponse, StreamingHttpResponse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from config.spreadsheets import (
    SWEDISH,
    CsvDialect,
    XlsxFile,
    csv_response,
    csv_value,
    table_csv,
    table_xlsx,
)
from deviations.models import YesNoUnknown
from deviations.workflow import Status

from .selectors import REPORT_COLUMNS, FollowUpStatistics, report_rows


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


def statistics_csv(stats: FollowUpStatistics, *, dialect: CsvDialect = SWEDISH) -> StreamingHttpResponse:
    def rows():
        for section in statistics_sections(stats):
            yield [section["title"]]
            yield section["headers"]
            for row in section["rows"]:
                yield [csv_value(v, dialect) for v in row]
            yield []

    kind = "statistik" if dialect is SWEDISH else "statistik-int"
    return csv_response(rows(), filename(stats, kind, "csv"), dialect)


def statistics_xlsx(stats: FollowUpStatistics) -> FileResponse:
    with XlsxFile(filename(stats, "statistik", "xlsx")) as book:
        for section in statistics_sections(stats):
            sheet = book.sheet(section["title"])
            book.write_row(sheet, 0, [str(h) for h in section["headers"]], header=True)
            for number, row in enumerate(section["rows"], start=1):
                book.write_row(sheet, number, row)
    return book.response


#: Coded columns of the report exports and their labels.
REPORT_CHOICES = {
    "status": Status.choices,
    "sip_involved": YesNoUnknown.choices,
    "discharge_involved": YesNoUnknown.choices,
}


def reports_csv(stats: FollowUpStatistics, qs, *, dialect: CsvDialect = SWEDISH) -> StreamingHttpResponse:
    kind = "rapporter" if dialect is SWEDISH else "rapporter-int"
    return table_csv(
        REPORT_COLUMNS,
        report_rows(qs),
        choices=REPORT_CHOICES,
        name=filename(stats, kind, "csv"),
        dialect=dialect,
    )


def reports_xlsx(stats: FollowUpStatistics, qs) -> StreamingHttpResponse:
    """The reports as XLSX, streamed in constant memory whatever their number (``config.spreadsheets``)."""
    return table_xlsx(
        REPORT_COLUMNS,
        report_rows(qs),
        choices=REPORT_CHOICES,
        name=filename(stats, "rapporter", "xlsx"),
        title=_("Rapporter"),
    )
