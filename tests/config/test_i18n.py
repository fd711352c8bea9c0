"""Swedish first, English complete: the English catalogue (complete, compiled, in step with the code),
key pages in both languages, and the language of the e-mails a reporter gets."""

import ast
import gettext
import html
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command

from config.i18n import DJANGO_MESSAGES
from deviations.models import Deviation
from tests.deviations import reporting_world, triage_world

LOCALE = Path(settings.BASE_DIR) / "locale"
EN_PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
EN_MO = LOCALE / "en" / "LC_MESSAGES" / "django.mo"
SV_PO = LOCALE / "sv" / "LC_MESSAGES" / "django.po"
SV_MO = LOCALE / "sv" / "LC_MESSAGES" / "django.mo"

# The same command as in the README ("Translations"); tests/ and the like hold no user-facing strings.
MAKEMESSAGES_IGNORE = [".venv", "node_modules", "tests", "bench", "staticfiles"]

# English words that are spelt like their Swedish msgid. Any other msgstr equal to its msgid is taken
# for a copy that was never translated.
SAME_IN_ENGLISH = {
    "Administration",
    "English",
    "Organisation",
    "Median",
    "Period",
    "Region",
    "Region → Region",
    "Status",
}
SAME_IN_ENGLISH |= {word.lower() for word in SAME_IN_ENGLISH} | {"text"}
# Django's own English messages, kept in our catalogues for their Swedish wording (config/i18n.py).
SAME_IN_ENGLISH |= set(DJANGO_MESSAGES)


# --- A small .po reader (no gettext tools or extra packages needed) -------------------------------

_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$')


def _unquote(quoted: str) -> str:
    return ast.literal_eval(quoted)


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file as dicts: msgctxt, msgid, msgid_plural, msgstr (list of forms), flags.
    The header entry (empty msgid) is included; obsolete entries (``#~``) are left out."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        entry = {"msgctxt": None, "msgid_plural": None, "msgstr": [], "flags": set()}
        field = None
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif match := _KEYWORD.match(line):
                keyword, index, quoted = match.groups()
                if keyword.startswith("msgstr"):
                    entry["msgstr"].append(_unquote(quoted))
                    field = ("msgstr", int(index or 0))
                else:
                    entry[keyword] = _unquote(quoted)
                    field = (keyword, None)
            elif line.startswith('"') and field:
                name, index = field
                if name == "msgstr":
                    entry["msgstr"][index] += _unquote(line)
                else:
                    entry[name] += _unquote(line)
        if "msgid" in entry:
            entries.append(entry)
    return entries


def messages(path: Path) -> list[dict]:
    return [entry for entry in parse_po(path) if entry["msgid"]]


def describe(entry: dict) -> str:
    context = f"[{entry['msgctxt']}] " if entry["msgctxt"] else ""
    return f"{context}{entry['msgid']!r}"


def untranslated(entries: list[dict]) -> list[str]:
    return [
        describe(entry)
        for entry in entries
        if "fuzzy" in entry["flags"]
        or not entry["msgstr"]
        or not all(form.strip() for form in entry["msgstr"])
        or (entry["msgid_plural"] and len(entry["msgstr"]) != 2)
    ]


_PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%%|%[sd]|\{\w*\}")


def placeholders(text: str) -> list[str]:
    return sorted(_PLACEHOLDER.findall(text))


# --- The catalogues ---------------------------------------------------------------------------


def test_both_catalogues_exist_compiled():
    for path in (EN_PO, EN_MO, SV_PO, SV_MO):
        assert path.is_file(), f"{path} is missing; see README, Translations"


def test_the_parser_sees_a_missing_or_fuzzy_translation(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        'msgid "Ja"\nmsgstr "Yes"\n\n'
        'msgid "Nej"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Kanske"\nmsgstr "Maybe"\n\n'
        'msgid "%(n)s rapport"\nmsgid_plural "%(n)s rapporter"\nmsgstr[0] "%(n)s report"\nmsgstr[1] ""\n\n'
        'msgctxt "plural"\nmsgid "samråd"\nmsgstr ""\n"councils"\n\n'
        '#~ msgid "Gammal"\n#~ msgstr ""\n',
        encoding="utf-8",
    )
    entries = messages(po)
    assert [entry["msgid"] for entry in entries] == ["Ja", "Nej", "Kanske", "%(n)s rapport", "samråd"]
    assert entries[-1]["msgstr"] == ["councils"] and entries[-1]["msgctxt"] == "plural"
    assert untranslated(entries) == ["'Nej'", "'Kanske'", "'%(n)s rapport'"]


def test_english_catalogue_has_no_untranslated_or_fuzzy_entries():
    entries = messages(EN_PO)
    assert len(entries) > 500
    missing = untranslated(entries)
    assert not missing, f"{len(missing)} English translations missing or fuzzy:\n" + "\n".join(missing)


def test_english_catalogue_header_is_final_and_has_english_plurals():
    header = parse_po(EN_PO)[0]
    assert header["msgid"] == "" and "fuzzy" not in header["flags"]
    assert "Language: en\n" in header["msgstr"][0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header["msgstr"][0]


def test_english_translations_keep_every_placeholder():
    wrong = []
    for entry in messages(EN_PO):
        pairs = [(entry["msgid"], entry["msgstr"][0])]
        if entry["msgid_plural"]:
            pairs.append((entry["msgid_plural"], entry["msgstr"][1]))
        wrong += [describe(entry) for source, target in pairs if placeholders(source) != placeholders(target)]
    assert not wrong, "Placeholders differ:\n" + "\n".join(wrong)


def test_english_translations_are_not_copies_of_the_swedish():
    copies = [
        describe(entry)
        for entry in messages(EN_PO)
        if entry["msgstr"][0] == entry["msgid"] and entry["msgid"] not in SAME_IN_ENGLISH
    ]
    assert not copies, "Copied instead of translated:\n" + "\n".join(copies)


def test_compiled_english_catalogue_matches_the_po():
    """The committed .mo is what Django reads: it must be compiled from the current .po."""
    with EN_MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in messages(EN_PO):
        context, singular, plural = entry["msgctxt"], entry["msgid"], entry["msgid_plural"]
        if plural and context:
            got = [compiled.npgettext(context, singular, plural, n) for n in (1, 2)]
        elif plural:
            got = [compiled.ngettext(singular, plural, n) for n in (1, 2)]
        elif context:
            got = [compiled.pgettext(context, singular)]
        else:
            got = [compiled.gettext(singular)]
        if got != entry["msgstr"]:
            stale.append(describe(entry))
    assert not stale, "django.mo is out of date, run compilemessages:\n" + "\n".join(stale)


@pytest.mark.skipif(not shutil.which("xgettext"), reason="needs GNU gettext (xgettext, msgmerge)")
def test_catalogue_holds_every_string_of_the_code(tmp_path, monkeypatch, settings):
    """Extract the strings from a copy of the code into a copy of the catalogue: every string marked for
    translation in the code must already be in the English catalogue, translated."""
    source = tmp_path / "src"
    shutil.copytree(
        settings.BASE_DIR,
        source,
        ignore=shutil.ignore_patterns(
            *MAKEMESSAGES_IGNORE,
            ".git",
            "static",
            "media",
            "docs",
            "test-artifacts",
            "__pycache__",
            ".*cache",
            ".hypothesis",
            ".pgdata",
            "*.mo",
        ),
    )
    settings.LOCALE_PATHS = [source / "locale"]
    monkeypatch.chdir(source)
    call_command("makemessages", locale=["en"], ignore_patterns=MAKEMESSAGES_IGNORE, verbosity=0)
    missing = untranslated(messages(source / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    assert not missing, (
        f"{len(missing)} strings in the code lack an English translation (see README, Translations):\n"
        + "\n".join(missing)
    )


# --- Pages ------------------------------------------------------------------------------------


def visible_text(response) -> str:
    """What a reader sees: the text outside tags, without the language switch (it names the other
    language on purpose)."""
    content = response.content.decode()
    content = re.sub(r"<(script|style)\b.*?</\1>", " ", content, flags=re.S)
    content = re.sub(r'<form[^>]*action="/i18n/setlang/".*?</form>', " ", content, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", content))


SWEDISH_UI_WORDS = [
    "Rapportera",
    "Logga in",
    "Logga ut",
    "Hoppa till innehållet",
    "Skicka",
    "Välj",
    "Sök",
    "Spara",
    "Visa",
    "Ärenden",
    "Uppföljning",
    "Överenskommelse",
    "samverkansbrist",
    "återkoppling",
    "Huvudmeny",
]


@pytest.fixture
def world(db):
    return triage_world.build_world()


# (page, who signs in, English words expected, Swedish words expected on the unprefixed page)
PAGES = [
    ("/", None, ["Report a collaboration deviation", "Skip to content"], ["Rapportera en samverkansbrist"]),
    (
        "/rapportera/",
        None,
        ["What is a collaboration deviation?", "local council", "feedback"],
        ["Vad är en samverkansbrist?", "lokala samrådet"],
    ),
    (
        "/rapportera/formular/",
        None,
        [
            "What is the deviation about?",
            "Your contact details",
            "Choose a municipality",
            "Your organisation",
        ],
        ["Vad gäller bristen?", "Dina kontaktuppgifter", "Välj kommun"],
    ),
    ("/konto/logga-in/", None, ["Sign in", "Password"], ["Logga in", "Lösenord"]),
    (
        "/arenden/",
        "coord_x",
        [
            "Filters and search",
            "Rows per page",
            "Case handler",
            "Under assessment",
            "Reports, sortable columns",
        ],
        ["Filter och sökning", "Handläggare"],
    ),
    (
        "/uppfoljning/",
        "regional",
        ["Agreement follow-up", "By month", "Number of reports", "Systemic issues"],
        ["Uppföljning av överenskommelse", "Per månad"],
    ),
    ("/konto/profil/", "coord_x", ["My profile", "Sign out on all devices", "Coordinator"], ["Min profil"]),
    ("/samrad/", "coord_x", ["Council meeting packs"], ["Mötesunderlag för samråd"]),
]


def get_page(client, world, path, who):
    if who:
        client.force_login(getattr(world, who))
    response = client.get(path)
    assert response.status_code == 200, path
    return response


@pytest.mark.parametrize(("path", "who", "english", "swedish"), PAGES, ids=[page[0] for page in PAGES])
def test_key_pages_speak_english_under_en(client, world, path, who, english, swedish):
    response = get_page(client, world, "/en" + path, who)
    assert '<html lang="en"' in response.content.decode()
    text = visible_text(response)
    for phrase in english:
        assert phrase in text, f"{phrase!r} missing on /en{path}"
    leftovers = [word for word in SWEDISH_UI_WORDS + swedish if word in text]
    assert not leftovers, f"Swedish on /en{path}: {leftovers}"


@pytest.mark.parametrize(("path", "who", "english", "swedish"), PAGES, ids=[page[0] for page in PAGES])
def test_key_pages_still_speak_swedish_unprefixed(client, world, path, who, english, swedish):
    response = get_page(client, world, path, who)
    assert '<html lang="sv"' in response.content.decode()
    text = visible_text(response)
    for phrase in swedish:
        assert phrase in text, f"{phrase!r} missing on {path}"
    assert not [phrase for phrase in english if phrase in text]


def test_report_detail_and_transition_form_in_english(client, world):
    client.force_login(world.coord_x)
    reference = world.dev_x.reference
    text = visible_text(get_page(client, world, f"/en/rapporter/{reference}/", None))
    assert f"Report {reference}" in text
    for phrase in (
        "Responses",
        "Events",
        "Internal note",
        "Save visible to the reporter",
        "Start assessment",
    ):
        assert phrase in text
    assert not [word for word in ("Yttranden", "Händelser", "Intern anteckning", "Påbörja") if word in text]
    text = visible_text(get_page(client, world, f"/en/rapporter/{reference}/atgard/reject/", None))
    assert "Reason for rejection" in text and "Not a collaboration deviation" in text
    assert "Avvisningsorsak" not in text


def test_form_errors_are_english_under_en(client, db):
    w = reporting_world.build_world()
    response = client.post(
        "/en/rapportera/formular/",
        reporting_world.valid_post(w, consequence="", reporter_email="x@gmail.com"),
    )
    assert response.status_code == 200
    text = visible_text(response)
    assert "The form contains errors" in text
    assert 'value="Send the report"' in response.content.decode()
    assert "Consequence for the individual" in text and "This field is required." in text
    assert "Use your work e-mail address." in text and "“gmail.com”" in text
    assert "Formuläret innehåller fel" not in text and "Använd din e-postadress" not in text


def test_error_page_in_english(client, db):
    response = client.get("/en/finns-inte/")
    assert response.status_code == 404
    text = visible_text(response)
    assert "Page not found" in text and "Sidan hittades inte" not in text


def test_model_names_and_choices_in_english(db):
    from django.utils import translation

    from councils.models import Council, User
    from deviations.workflow import Status

    with translation.override("en"):
        assert str(Deviation._meta.verbose_name_plural) == "collaboration deviations"
        assert str(Council._meta.verbose_name) == "council"
        assert str(Council._meta.verbose_name_plural) == "councils"
        assert str(User._meta.verbose_name_plural) == "users"
        assert str(Status.TRIAGE.label) == "Under assessment"
    with translation.override("sv"):
        assert str(Council._meta.verbose_name_plural) == "samråd"
        assert str(Status.TRIAGE.label) == "Under bedömning"


# --- E-mails follow the reporter's language ------------------------------------------------------


def link_in(message, marker: str) -> str:
    line = next(line for line in message.body.splitlines() if marker in line)
    return line.strip().removeprefix("http://testserver")


@pytest.mark.parametrize(
    ("prefix", "confirm_subject", "confirm_text", "receipt_subject", "receipt_text"),
    [
        (
            "/en",
            "Confirm your report of a collaboration deviation",
            "Confirm the report within",
            "Receipt: your report",
            "Thank you for your report.",
        ),
        (
            "",
            "Bekräfta din rapport om samverkansbrist",
            "Bekräfta rapporten inom",
            "Kvitto: din rapport",
            "Tack för din rapport.",
        ),
    ],
)
def test_confirmation_and_receipt_e_mails_follow_the_reporters_language(
    client,
    db,
    django_capture_on_commit_callbacks,
    prefix,
    confirm_subject,
    confirm_text,
    receipt_subject,
    receipt_text,
):
    w = reporting_world.build_world()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{prefix}/rapportera/formular/", reporting_world.valid_post(w))
    assert response.status_code == 302
    (confirmation,) = mail.outbox
    assert confirmation.subject == confirm_subject
    assert confirm_text in confirmation.body
    link = link_in(confirmation, "/rapportera/bekrafta/")
    assert link.startswith(f"{prefix}/rapportera/bekrafta/")  # the link keeps the language

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(link).status_code == 302
    deviation = Deviation.objects.get()
    receipt = next(message for message in mail.outbox if message.to[0].lower() == "rapportor@nacka.se")
    assert receipt.subject == f"{receipt_subject} {deviation.reference} " + (
        "has been received" if prefix else "har kommit in"
    )
    assert receipt_text in receipt.body
    assert link_in(receipt, "/status/").startswith(f"{prefix}/status/")
    # Council staff work in Swedish: their notification does not follow the reporter's language.
    notice = next(message for message in mail.outbox if message.to == ["samordnare@nacka.se"])
    assert notice.subject == f"Ny samverkansbrist {deviation.reference}"


def test_signed_in_reporter_gets_the_receipt_in_english(client, db, django_capture_on_commit_callbacks):
    from tests import factories

    w = reporting_world.build_world()
    client.force_login(factories.UserFactory(email="anna@nacka.se", organization=w.own))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/en/rapportera/formular/", reporting_world.valid_post(w, reporter_email="anna@nacka.se")
        )
    assert response.status_code == 302
    receipt = next(message for message in mail.outbox if message.to == ["anna@nacka.se"])
    assert receipt.subject.startswith("Receipt: your report SB-")
    assert "Follow the report's status and read the feedback here" in receipt.body
    assert "Tack" not in receipt.body and "Kvitto" not in receipt.subject


EMAIL_TEMPLATES = sorted(
    path.name.removesuffix("_body.txt")
    for path in (Path(settings.BASE_DIR) / "deviations" / "templates" / "deviations" / "email").glob(
        "*_body.txt"
    )
)


@pytest.mark.parametrize("template", EMAIL_TEMPLATES)
def test_every_e_mail_can_be_written_in_english(template, db):
    from types import SimpleNamespace

    from deviations.emails import compose

    deviation = SimpleNamespace(reference="SB-2026-00042", council="Council X")
    context = {
        "deviation": deviation,
        "agreement": "Agreement A",
        "category": "Category C",
        "organization": "Organisation O",
        "response_request": SimpleNamespace(organization="Organisation O", due_on=None),
        "link": "http://testserver/en/x/",
        "status_link": "http://testserver/en/status/x/",
        "response_link": "http://testserver/en/respond/x/",
        "max_age_hours": 24,
    }
    compose(template=template, to=["someone@example.se"], context=context, language="en").send()
    (message,) = mail.outbox
    text = f"{message.subject}\n{message.body}"
    assert "report" in text or "response" in text
    swedish = [
        "samverkansbrist",
        "yttrande",
        "Yttrande",
        "Hej",
        "Referens",
        "Överenskommelse",
        "Kategori",
        "Läs",
    ]
    assert not [word for word in swedish if word in text], text


def test_meeting_pack_pdf_in_english(client, world):
    import io

    from pypdf import PdfReader

    client.force_login(world.coord_x)
    response = client.get(f"/en/samrad/{world.council_x.pk}/motesunderlag.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.content)).pages
    )
    for phrase in (
        "Meeting pack: Samråd X",
        "Open reports by status",
        "Overdue responses",
        "Suggested escalations",
    ):
        assert phrase in text
    assert not [word for word in ("Mötesunderlag", "Försenade yttranden", "Systemfrågor") if word in text]


# --- What is saved stays in the site's language ----------------------------------------------------


def test_event_log_texts_are_saved_in_swedish_whatever_the_request_language(
    client, db, django_capture_on_commit_callbacks
):
    """The event log is read later by council staff: an English-speaking reporter or handler must not
    leave English texts in it."""
    from django.utils import translation

    from deviations.models import DeviationEvent
    from deviations.services import responses
    from deviations.workflow import Status

    w = reporting_world.build_world()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/en/rapportera/formular/", reporting_world.valid_post(w))
    link = link_in(mail.outbox[0], "/rapportera/bekrafta/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link)
    deviation = Deviation.objects.get()
    assert deviation.events.get().actor_label == "Rapportören (bekräftad via e-post)"

    deviation.status = Status.TRIAGE
    deviation.save()
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        (request,) = responses.request_response(
            deviation=deviation, organizations=[w.counterpart], actor=w.nacka_coordinator
        )
        responses.cancel_response_request(response_request=request, actor=w.nacka_coordinator)
    texts = list(
        deviation.events.filter(
            kind__in=[DeviationEvent.Kind.RESPONSE_REQUESTED, DeviationEvent.Kind.NOTE]
        ).values_list("text", flat=True)
    )
    assert texts == [
        f"Psykiatri Södra, svar senast {request.due_on.isoformat()}",
        "Begäran om yttrande från Psykiatri Södra återkallad.",
    ]
