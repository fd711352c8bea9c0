"""The follow-up document: one structure, rendered as the web page, the PDF and the Word file.

``build_document`` turns the statistics and the written analysis of one scope into a list of blocks
(headings, paragraphs, lists, tables, charts) shaped like a real follow-up report of an agreement (seed
003: summary, recommendations, proposed follow-up areas, assignment and goals, method and limitations,
results, analysis against the goals, promoting and hindering factors, references). Everything the data
can say is written by the system; the judgement is the analysis' texts. ``templates/followup/includes/
document.html`` renders the blocks as HTML (page and PDF; the tag ``followup_document.document_blocks``),
``followup.word`` as Word.

Numbers are formatted here, once, in the active language (Swedish: decimal comma), with a no-break space
before "%" so that a share never wraps.
"""

import re
from dataclasses import dataclass, field

from django.utils import formats, timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .selectors import (
    SMALL_NUMBER_LABEL,
    SMALL_NUMBER_THRESHOLD,
    FollowUpStatistics,
    Scope,
)

NBSP = "\u00a0"
MINUS = "\u2212"
DASH = "–"


# --- Formatting ------------------------------------------------------------------------------------


def number(value, decimals: int | None = None) -> str:
    if value is None:
        return DASH
    if isinstance(value, str):
        return value  # already masked
    if decimals is None and isinstance(value, int):
        return formats.number_format(value, force_grouping=True)
    return formats.number_format(value, 1 if decimals is None else decimals, force_grouping=True)


def percent(value) -> str:
    if value is None:
        return DASH
    if isinstance(value, str):
        return value
    return f"{number(value, 1)}{NBSP}%"


def signed(value, decimals: int = 0) -> str:
    """A change: "+3", "−2,5", "±0"; "–" when there is nothing to compare."""
    if value is None:
        return DASH
    if value == 0:
        return "±0"
    text = number(abs(value), decimals if decimals or not isinstance(value, int) else None)
    return f"+{text}" if value > 0 else f"{MINUS}{text}"


def change_text(row: dict, unit: str) -> str:
    if row.get("change") is None:
        return DASH
    if unit == "count":
        text = signed(row["change"])
        if row.get("change_pct") is not None:
            text += f" ({signed(row['change_pct'], 1)}{NBSP}%)"
        return text
    suffix = NBSP + _("procentenheter") if unit == "share" else ""
    return signed(row["change"], 1) + suffix


def value_text(value, unit: str) -> str:
    return percent(value) if unit == "share" else number(value, 1 if unit == "days" else None)


# --- Blocks ----------------------------------------------------------------------------------------


class Swedish(str):
    """Text stored in Swedish whatever the page's language (an agreement's description, the name of a
    commitment, category or contributing factor, a systemic issue's title and its actions): the HTML
    renderings mark it ``lang="sv"`` (WCAG 2.1 3.1.2, language of parts), so that a screen reader on the
    English page reads it as Swedish. Any other use (Word, sorting, slugs) sees a plain string."""

    __slots__ = ()


class Mixed(str):
    """A sentence in the page's language with text stored in Swedish inside it ("Most common contributing
    factors: Samordning (12)."): ``parts`` are its pieces in order, the stored ones ``Swedish``, so that
    the renderings mark those alone (WCAG 2.1 3.1.2). Made by ``joined`` and ``interpolate``; any other
    use sees the whole sentence as a plain string."""

    parts: tuple[str, ...]


def parts_of(text: str) -> tuple[str, ...]:
    """The pieces of ``text`` as ``Mixed.parts`` (a text of one language is one piece)."""
    return text.parts if isinstance(text, Mixed) else (text,)


def joined(*pieces: str) -> str:
    """``pieces`` as one string; a ``Mixed`` when any of them is (or holds) text stored in Swedish."""
    parts = []
    for part in (part for piece in pieces for part in parts_of(piece) if part):
        if parts and isinstance(part, Swedish) == isinstance(parts[-1], Swedish):
            part = type(part)(parts[-1] + part)  # one piece per stretch of one language
            parts.pop()
        parts.append(part)
    if not any(isinstance(part, Swedish) for part in parts):
        return "".join(parts)
    sentence = Mixed("".join(parts))
    sentence.parts = tuple(parts)
    return sentence


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def interpolate(template: str, values: dict) -> str:
    """``template % values``, where the values stored in Swedish (``Swedish``, ``Mixed``) stay marked in
    the sentence (``joined``). ``template``'s placeholders are ``%(name)s``, as in the catalogues."""
    if not any(isinstance(value, Swedish | Mixed) for value in values.values()):
        return template % values
    pieces = _PLACEHOLDER.split(template)  # text, name, text, name, ..., text
    for text in pieces[::2]:
        if "%" in text.replace("%%", ""):
            raise ValueError(f"interpolate() takes %(name)s placeholders only: {template!r}")
    return joined(
        *(
            (value if isinstance(value := values[piece], str) else str(value))
            if index % 2
            else piece.replace("%%", "%")
            for index, piece in enumerate(pieces)
        )
    )


def _commitment_label(row: dict) -> str:
    """A commitment row's label: the commitment's stored name, or the translated "none given"."""
    return Swedish(row["label"]) if row["commitment"] is not None else row["label"]


@dataclass
class Heading:
    level: int  # 1 the title, 2 a section, 3 a subsection
    text: str
    anchor: str = ""
    kind: str = "heading"


@dataclass
class Paragraph:
    text: str
    style: str = ""  # "lead", "note", "written" (the analysis' own text, kept as typed), "placeholder"
    kind: str = "paragraph"


@dataclass
class Bullets:
    items: list[str]
    kind: str = "bullets"


@dataclass
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()  # right-aligned columns
    anchor: str = ""
    kind: str = "table"


@dataclass
class Chart:
    svg: str
    kind: str = "chart"


@dataclass
class Document:
    title: str
    meta: list[tuple[str, str]]
    blocks: list = field(default_factory=list)

    @property
    def contents(self) -> list[Heading]:
        """The headings of the table of contents (sections and subsections)."""
        return [b for b in self.blocks if isinstance(b, Heading) and b.level in (2, 3)]

    @property
    def headings(self) -> list[Heading]:
        return [b for b in self.blocks if isinstance(b, Heading)]


class _Builder:
    def __init__(self):
        self.blocks = []
        self.anchors = set()

    def heading(self, level: int, text: str, anchor: str = "") -> None:
        anchor = anchor or slugify(text)[:40] or "avsnitt"
        base, n = anchor, 1
        while anchor in self.anchors:
            n += 1
            anchor = f"{base}-{n}"
        self.anchors.add(anchor)
        self.blocks.append(Heading(level, text, anchor))

    def text(self, text: str, style: str = "") -> None:
        self.blocks.append(Paragraph(text, style))

    def written(self, text: str, missing: str) -> None:
        """The analysis' own text, or a placeholder saying it is not written yet."""
        if text and text.strip():
            self.blocks.append(Paragraph(text.strip(), "written"))
        else:
            self.blocks.append(Paragraph(missing, "placeholder"))

    def bullets(self, items) -> None:
        items = [item for item in items if item]
        if items:
            self.blocks.append(Bullets(items))

    def table(self, caption, headers, rows, numeric=(), anchor="") -> None:
        self.blocks.append(Table(caption, headers, rows, frozenset(numeric), anchor))

    def chart(self, svg) -> None:
        if svg:
            self.blocks.append(Chart(svg))


# --- The document ----------------------------------------------------------------------------------


def _scope_sentence(scope: Scope) -> str:
    if scope.kind == Scope.COUNCIL:
        return _("rapporter som handläggs av %(council)s") % {"council": scope.council}
    if scope.kind == Scope.MUNICIPALITY and scope.council is not None:
        return _("rapporter om brister i %(municipality)s som handläggs av %(council)s") % {
            "municipality": scope.municipality,
            "council": scope.council,
        }
    if scope.kind == Scope.MUNICIPALITY:
        return _("rapporter om brister i %(municipality)s") % {"municipality": scope.municipality}
    return _("alla rapporter i länet")


def _dates(period) -> str:
    return f"{period.start.isoformat()}{NBSP}{DASH} {period.end.isoformat()}"


def title_of(stats: FollowUpStatistics) -> str:
    return _("Uppföljning av överenskommelse: %(agreement)s") % {"agreement": stats.agreement.name}


def build_document(stats: FollowUpStatistics, analysis=None, *, charts: dict | None = None) -> Document:
    """The follow-up document of ``stats`` with the written ``analysis`` (a ``FollowUpAnalysis`` of the
    same scope, or None). ``charts``: the SVG charts for HTML renderings (left out of Word)."""
    charts = charts or {}
    previous = stats.previous
    b = _Builder()
    when = (
        formats.date_format(timezone.localtime(stats.extracted_at), "Y-m-d H:i") if stats.extracted_at else ""
    )
    meta = [
        (_("Område"), f"{stats.scope.label}: {_scope_sentence(stats.scope)}"),
        (
            _("Period"),
            _("%(period)s (%(dates)s), efter %(basis)s")
            % {
                "period": stats.period.label,
                "dates": _dates(stats.period),
                "basis": stats.basis_label.lower(),
            },
        ),
        (
            _("Underlag"),
            ngettext(
                "%(n)s bekräftad rapport, uttag %(when)s",
                "%(n)s bekräftade rapporter, uttag %(when)s",
                stats.total,
            )
            % {"n": number(stats.total), "when": when},
        ),
    ]
    if analysis is not None:
        author = analysis.author.get_full_name() or analysis.author.username
        meta.append(
            (
                _("Analys"),
                _("version sparad %(when)s av %(author)s")
                % {
                    "when": formats.date_format(timezone.localtime(analysis.created_at), "Y-m-d H:i"),
                    "author": author,
                },
            )
        )
    else:
        meta.append((_("Analys"), _("ännu inte skriven för detta område och denna period")))

    # Summary, recommendations, proposed follow-up areas.
    b.heading(2, _("Sammanfattning"), "sammanfattning")
    b.text(_summary_sentence(stats), "lead")
    b.written(analysis.summary if analysis else "", _("Samrådets sammanfattning är inte skriven ännu."))
    b.heading(2, _("Rekommendationer"), "rekommendationer")
    b.written(analysis.recommendations if analysis else "", _("Inga rekommendationer är skrivna ännu."))
    b.heading(2, _("Förslag till uppföljningsområden"), "uppfoljningsomraden")
    b.written(analysis.followup_areas if analysis else "", _("Inga uppföljningsområden är föreslagna ännu."))

    # 1. Assignment, purpose and the agreement's goals.
    b.heading(2, _("1. Uppdrag, syfte och fokusområden"), "syfte")
    b.written(
        analysis.purpose if analysis else "",
        _(
            "Uppföljningen gäller överenskommelsen ”%(agreement)s” och bygger på de samverkansbrister som "
            "rapporterats under perioden. Syftet är att se i vilken mån överenskommelsens målsättningar "
            "nås, och vad som främjar eller hindrar samverkan."
        )
        % {"agreement": stats.agreement.name},
    )
    b.heading(3, _("Överenskommelsens målsättningar"), "malsattningar")
    if stats.agreement.description:
        b.text(Swedish(stats.agreement.description))
    b.bullets([Swedish(row["commitment"]) for row in stats.commitments if row["commitment"] is not None])

    # 2. Method and limitations, written by the system.
    _method(b, stats, when)

    # 3. Results.
    b.heading(2, _("3. Resultat"), "resultat")
    _results(b, stats, previous, analysis, charts)

    # 4. Analysis.
    b.heading(2, _("4. Analys och slutsatser"), "analys")
    b.heading(3, _("4.1 Analys i förhållande till överenskommelsens målsättningar"), "analys-mal")
    for row in stats.commitments:
        if row["commitment"] is None:
            continue
        b.heading(4, _commitment_label(row))
        b.written(
            analysis.commitment_text(row["commitment"].pk, "analysis") if analysis else "",
            _("Ingen analys mot målsättningen är skriven ännu."),
        )
    b.heading(3, _("4.2 Främjande och hindrande faktorer"), "faktorer-analys")
    b.heading(4, _("Främjande faktorer"))
    if analysis and analysis.promoting_factors:
        b.bullets(analysis.promoting_factors)
    else:
        b.text(_("Inga främjande faktorer är angivna ännu."), "placeholder")
    b.heading(4, _("Hindrande faktorer"))
    if analysis and analysis.hindering_factors:
        b.bullets(analysis.hindering_factors)
    else:
        b.text(_("Inga hindrande faktorer är angivna ännu."), "placeholder")
    b.heading(4, _("Förslag utifrån rapporternas bidragande faktorer"))
    proposals = proposed_hindering_factors(stats)
    if proposals:
        b.bullets(proposals)
    else:
        b.text(
            _("Färre än två rapporter har samma bidragande faktor angiven; systemet föreslår inga faktorer."),
            "note",
        )
    b.heading(3, _("4.3 Sammanfattande analys och slutsatser"), "slutsatser")
    b.written(analysis.analysis if analysis else "", _("Ingen sammanfattande analys är skriven ännu."))

    # 5. References.
    b.heading(2, _("5. Referenser"), "referenser")
    references = []
    if stats.agreement.document_url:
        references.append(f"{stats.agreement.name}. {stats.agreement.document_url}")
    else:
        references.append(stats.agreement.name)
    if analysis and analysis.references:
        references += [line.strip() for line in analysis.references.splitlines() if line.strip()]
    references.append(_("Samverkansbrister: uttag %(when)s.") % {"when": when})
    b.bullets(references)
    return Document(title=title_of(stats), meta=meta, blocks=b.blocks)


def _summary_sentence(stats: FollowUpStatistics) -> str:
    text = _(
        "Under perioden rapporterades %(total)s samverkansbrister. %(open)s är fortfarande öppna. "
        "%(local)s har åtgärdats lokalt och %(escalated)s har eskalerats till det regionala samrådet."
    ) % {
        "total": number(stats.total),
        "open": number(stats.summary["open"]),
        "local": number(stats.handling["resolved_locally"]),
        "escalated": number(stats.handling["escalated"]),
    }
    if stats.previous is not None:
        row = stats.comparison[0]
        text += " " + _("Föregående period (%(period)s): %(previous)s rapporter, förändring %(change)s.") % {
            "period": stats.previous.period.label,
            "previous": number(stats.previous.total),
            "change": change_text(row, "count"),
        }
    return text


def proposed_hindering_factors(stats: FollowUpStatistics) -> list[str]:
    """The system's proposal of hindering factors, from the contributing factors the reports were
    tagged with: main factors named in at least two reports, most frequent first, with their most
    frequent sub-factor."""
    proposals = []
    for row in stats.proposed_hindering_factors:
        text = interpolate(
            _("%(factor)s: %(n)s av %(tagged)s rapporter med angivna faktorer (%(share)s)"),
            {
                "factor": Swedish(row["label"]),
                "n": number(row["count"]),
                "tagged": number(stats.factor_tagged),
                "share": percent(row["share"]),
            },
        )
        if row["children"]:
            top = row["children"][0]
            main = interpolate(
                _("främst ”%(sub)s” (%(n)s)"), {"sub": Swedish(top["label"]), "n": number(top["count"])}
            )
            text = joined(text, ", ", main)
        proposals.append(text)
    return proposals


def _method(b: _Builder, stats: FollowUpStatistics, when: str) -> None:
    b.heading(2, _("2. Metod och avgränsningar"), "metod")
    b.text(
        _(
            "Underlaget är de samverkansbrister som rapporterats i Samverkansbrister enligt "
            "överenskommelsen ”%(agreement)s”: %(scope)s. Obekräftade rapporter (där rapportören inte "
            "bekräftat sin e-postadress) räknas inte. Avvisade rapporter räknas med och redovisas för sig."
        )
        % {"agreement": stats.agreement.name, "scope": _scope_sentence(stats.scope)}
    )
    b.text(
        _(
            "Perioden är %(label)s, %(dates)s, och avser %(basis)s: en rapport räknas när det datumet ligger "
            "inom perioden."
        )
        % {"label": stats.period.label, "dates": _dates(stats.period), "basis": stats.basis_label.lower()}
    )
    if stats.previous is not None:
        b.text(
            _("Jämförelseperioden är %(label)s, %(dates)s: lika lång och närmast före.")
            % {"label": stats.previous.period.label, "dates": _dates(stats.previous.period)}
        )
    b.text(
        _(
            "Tid till första åtgärd räknas från att rapporten kom in till samrådets första åtgärd, tid till "
            "avslut för avslutade rapporter och tid till yttrande från begäran till motpartens svar. "
            "Median och 90:e percentil anges i dagar med en decimal; tiderna räknas i tiondels dagar upp "
            "till 10 dagar, i hela dagar upp till 100 dagar och i tiotal dagar därefter. Tider per "
            "organisationspar är medelvärden. Ett yttrande är besvarat i tid om svaret kom senast på "
            "svarsdatumet (svensk tid); obesvarade yttranden som ännu inte förfallit räknas inte in i "
            "andelen."
        )
    )
    b.text(
        _(
            "Bidragande faktorer anges av samrådet när rapporten bedöms (%(tagged)s av %(total)s rapporter "
            "har minst en faktor). Följden för personen graderas av rapportören."
        )
        % {"tagged": number(stats.factor_tagged), "total": number(stats.total)}
    )
    small = _(
        "Färre än %(n)s rapporter per kommun eller samråd visas som ”%(label)s” så att enskilda ärenden "
        "inte kan kännas igen."
    ) % {"n": SMALL_NUMBER_THRESHOLD, "label": SMALL_NUMBER_LABEL}
    if stats.masked:
        small += " " + _("Detsamma gäller organisationspar utanför den regionala nivån.")
    b.text(small)
    b.text(
        _(
            "Siffrorna togs fram %(when)s. Öppna ärenden och försenade yttranden avser läget då. Rapporterna "
            "visar de brister som någon valt att rapportera, inte hur ofta brister inträffar; en förändring "
            "kan bero på att fler eller färre rapporterar."
        )
        % {"when": when}
    )


def _count_cells(row: dict) -> list[str]:
    return [number(row.get("count_display", row["count"])), percent(row.get("share_display", row["share"]))]


def _results(b: _Builder, stats: FollowUpStatistics, previous, analysis, charts: dict) -> None:
    count_share = [_("Antal"), _("Andel")]
    # 3.1 Overview and comparison.
    b.heading(3, _("3.1 Översikt och jämförelse med föregående period"), "oversikt")
    if previous is not None:
        b.table(
            _("Jämförelse med föregående period"),
            [_("Mått"), stats.period.label, previous.period.label, _("Förändring")],
            [
                [
                    row["label"],
                    value_text(row["current"], row["unit"]),
                    value_text(row["previous"], row["unit"]),
                    change_text(row, row["unit"]),
                ]
                for row in stats.comparison
            ],
            numeric={1, 2, 3},
            anchor="table-comparison",
        )
    s = stats.summary
    b.table(
        _("Läget vid uttaget"),
        [_("Mått"), _("Antal"), _("Andel")],
        [
            [_("Öppna"), number(s["open"]), percent(s["open_share"])],
            [_("Med försenat yttrande"), number(s["overdue"]), percent(s["overdue_share"])],
            [_("Avslutade"), number(s["closed"]), percent(_share_of(s["closed"], stats.total))],
            [_("Avvisade"), number(s["rejected"]), percent(_share_of(s["rejected"], stats.total))],
        ],
        numeric={1, 2},
        anchor="table-status",
    )

    # 3.2 Per commitment.
    b.heading(3, _("3.2 Resultat per åtagande"), "per-atagande")
    months = [m["month"] for m in stats.by_month]
    b.table(
        _("Per åtagande"),
        [_("Åtagande"), *count_share, _("Föregående period"), _("Förändring")],
        [
            [
                _commitment_label(row),
                number(row["count"]),
                percent(row["share"]),
                number(row.get("previous")),
                change_text(row, "count"),
            ]
            for row in stats.commitments
        ],
        numeric={1, 2, 3, 4},
        anchor="table-commitment",
    )
    if len(months) > 1:
        b.table(
            _("Per åtagande och månad"),
            [_("Åtagande"), *[formats.date_format(m, "M") for m in months]],
            [[_commitment_label(row), *[number(n) for n in row["months"]]] for row in stats.commitments],
            numeric=set(range(1, len(months) + 1)),
            anchor="table-commitment-month",
        )
    for row in stats.commitments:
        b.heading(4, _commitment_label(row))
        facts = ngettext(
            "%(n)s rapport (%(share)s), föregående period %(previous)s (%(change)s).",
            "%(n)s rapporter (%(share)s), föregående period %(previous)s (%(change)s).",
            row["count"],
        ) % {
            "n": number(row["count"]),
            "share": percent(row["share"]),
            "previous": number(row.get("previous")),
            "change": change_text(row, "count"),
        }
        if row["severe"]:
            facts += " " + _("%(n)s med allvarlig eller mycket allvarlig följd för personen.") % {
                "n": number(row["severe"])
            }
        if row["factors"]:
            pieces = [
                p for f in row["factors"] for p in (", ", Swedish(f["label"]), f" ({number(f['count'])})")
            ]
            listed = joined(*pieces[1:])
            facts = joined(
                facts,
                " ",
                interpolate(_("Vanligaste bidragande faktorer: %(factors)s."), {"factors": listed}),
            )
        b.text(facts)
        if row["commitment"] is not None:
            b.written(
                analysis.commitment_text(row["commitment"].pk, "results") if analysis else "",
                _("Samrådets beskrivning av resultatet är inte skriven ännu."),
            )

    # 3.3 Trend and categories.
    b.heading(3, _("3.3 Trend per månad"), "trend")
    b.chart(charts.get("trend_chart"))
    b.table(
        _("Per månad"),
        [_("Månad"), *count_share],
        [[row.get("short_label", row["label"]), *_count_cells(row)] for row in stats.by_month],
        numeric={1, 2},
        anchor="table-month",
    )
    b.heading(3, _("3.4 Per kategori"), "kategori")
    b.chart(charts.get("category_chart"))
    b.table(
        _("Per kategori"),
        [_("Kategori"), *count_share],
        [[Swedish(row["label"]), *_count_cells(row)] for row in stats.by_category],
        numeric={1, 2},
        anchor="table-category",
    )

    # 3.5 Contributing factors and severity.
    b.heading(3, _("3.5 Bidragande faktorer"), "bidragande-faktorer")
    if stats.by_factor:
        rows = []
        for row in stats.by_factor:
            rows.append([Swedish(row["label"]), number(row["count"]), percent(row["share"])])
            rows += [
                [Swedish(f"{NBSP * 4}{child['label']}"), number(child["count"]), percent(child["share"])]
                for child in row["children"]
            ]
        b.table(
            _("Bidragande faktorer (andel av rapporter med angivna faktorer)"),
            [_("Faktor"), *count_share],
            rows,
            numeric={1, 2},
            anchor="table-factors",
        )
    else:
        b.text(_("Inga bidragande faktorer är angivna för rapporterna i perioden."), "note")
    b.heading(3, _("3.6 Följd för personen"), "foljd")
    b.table(
        _("Följd för personen enligt rapportören"),
        [_("Grad"), *count_share],
        [[row["label"], *_count_cells(row)] for row in stats.by_severity],
        numeric={1, 2},
        anchor="table-severity",
    )

    # 3.7 Places.
    if stats.scope.kind != Scope.MUNICIPALITY:
        b.heading(3, _("3.7 Per samråd och kommun"), "platser")
        place_headers = [_("Antal"), _("Andel"), _("Föregående period"), _("Förändring")]

        def place_rows(rows):
            return [
                [
                    row["label"],
                    number(row["count_display"]),
                    percent(row["share_display"]),
                    number(row.get("previous_display")),
                    change_text(row, "count"),
                ]
                for row in rows
            ]

        if stats.scope.is_whole_county:
            b.table(
                _("Per samråd"),
                [_("Samråd"), *place_headers],
                place_rows(stats.by_council),
                {1, 2, 3, 4},
                "table-councils",
            )
        b.table(
            _("Per kommun"),
            [_("Kommun"), *place_headers],
            place_rows(stats.by_municipality),
            {1, 2, 3, 4},
            "table-municipalities",
        )

    # 3.8 Handling.
    b.heading(3, _("3.8 Handläggning och yttranden"), "handlaggning")
    d = stats.durations
    b.table(
        _("Handläggningstider (dagar)"),
        [_("Mått"), _("Antal"), _("Median"), _("90:e percentil")],
        [
            [label, number(d[key]["count"]), number(d[key]["median_days"], 1), number(d[key]["p90_days"], 1)]
            for key, label in (
                ("response", _("Tid till första åtgärd")),
                ("closure", _("Tid till avslut")),
                ("answer", _("Tid till motpartens yttrande")),
            )
        ],
        numeric={1, 2, 3},
        anchor="table-durations",
    )
    r = stats.responses
    b.table(
        _("Begärda yttranden"),
        [_("Utfall"), _("Antal")],
        [
            [_("Begärda"), number(r["total"])],
            [_("Besvarade i tid"), number(r["in_time"])],
            [_("Besvarade för sent"), number(r["late"])],
            [_("Försenade, obesvarade"), number(r["overdue"])],
            [_("Ännu inte förfallna"), number(r["pending"])],
            [_("Andel besvarade i tid"), percent(r["in_time_share"])],
        ],
        numeric={1},
        anchor="table-responses",
    )
    h = stats.handling
    b.table(
        _("Åtgärdade lokalt eller eskalerade"),
        [_("Hantering"), *count_share],
        [
            [_("Åtgärdade lokalt"), number(h["resolved_locally"]), percent(h["resolved_locally_share"])],
            [_("Eskalerade till regionalt samråd"), number(h["escalated"]), percent(h["escalated_share"])],
        ],
        numeric={1, 2},
        anchor="table-handling",
    )

    # 3.9 Organisation pairs.
    b.heading(3, _("3.9 Organisationspar"), "organisationspar")
    b.table(
        _("Per organisationspar (rapporterande → motpart)"),
        [
            _("Rapporterande organisation"),
            _("Motpart"),
            *count_share,
            _("Första åtgärd, medel (dagar)"),
            _("Begärda yttranden"),
            _("Yttrande, medel (dagar)"),
            _("Besvarade i tid"),
        ],
        [
            [
                row["reporting"],
                row["counterpart"],
                number(row["count_display"]),
                percent(_pair_share(stats, row)),
                number(row["first_action_days"], 1),
                number(row["requests"]),
                number(row["answer_days"], 1),
                percent(row["in_time_share"]),
            ]
            for row in stats.top_pair_times
        ],
        numeric={2, 3, 4, 5, 6, 7},
        anchor="table-pairs",
    )
    if stats.organization_pairs_left_out:
        b.text(
            _("Visar de %(n)s vanligaste paren; ytterligare %(left)s par finns i exporten av statistiken.")
            % {"n": len(stats.top_pair_times), "left": stats.organization_pairs_left_out},
            "note",
        )
    b.text(
        _(
            "En rapport med flera motparter räknas en gång per par, så andelarna kan summera till mer än "
            "hundra procent."
        ),
        "note",
    )
    b.table(
        _("Per huvudmannapar"),
        [_("Huvudmän"), *count_share],
        [[row["label"], *_count_cells(row)] for row in stats.by_principal_pair],
        numeric={1, 2},
        anchor="table-principals",
    )

    # 3.10 Systemic issues.
    b.heading(3, _("3.10 Systemfrågor och beslutade åtgärder"), "systemfragor")
    issues = stats.top_systemic_issues
    if not issues:
        b.text(_("Inga systemfrågor berörs av rapporterna i perioden."), "note")
    action_headers = [_("Åtgärd"), _("Ansvarig"), _("Klart senast"), _("Status")]
    for issue in issues:
        b.heading(4, Swedish(issue.title))
        b.text(
            ngettext(
                "%(state)s. %(n)s kopplad rapport i perioden.",
                "%(state)s. %(n)s kopplade rapporter i perioden.",
                issue.linked,
            )
            % {"state": issue.get_state_display(), "n": issue.linked}
        )
        actions = list(issue.actions.all())
        if actions:
            b.table(
                interpolate(_("Beslutade åtgärder: %(title)s"), {"title": Swedish(issue.title)}),
                action_headers,
                [
                    [Swedish(a.description), a.owner.name, a.due_on.isoformat(), a.get_state_display()]
                    for a in actions
                ],
            )
        else:
            b.text(_("Inga beslutade åtgärder ännu."), "note")
    if stats.systemic_issues_left_out:
        b.text(
            _(
                "Visar de %(n)s systemfrågor som har flest kopplade rapporter; ytterligare %(left)s finns i "
                "exporten av statistiken."
            )
            % {"n": len(issues), "left": stats.systemic_issues_left_out},
            "note",
        )


def _share_of(count: int, total: int):
    return round(100 * count / total, 1) if total else None


def _pair_share(stats: FollowUpStatistics, row: dict):
    return SMALL_NUMBER_LABEL if row["masked"] else _share_of(row["count"], stats.total)
