"""Load-test scenarios for Samverkansbrister (locust). Normally started by ``python -m bench.run``, which
runs one scenario (one user class) at a time, headless, against 127.0.0.1 only.

Every path and parameter comes from an environment variable with a default matching the expected
Swedish routes; see CONFIG below and bench/README.md. A scenario whose page answers 404 (the view is
not on this branch yet) is reported as "not available" instead of failing the run.

SQL queries per request come from the ``X-Query-Count`` header (``BENCH_QUERY_COUNT=1`` on the server);
they are collected per request name and written to ``BENCH_STATS_FILE`` (JSON) when the run stops.
"""

import datetime
import http.cookiejar
import itertools
import json
import os
import random
import re
import time
import uuid
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin

from locust import FastHttpUser, constant, events, task
from locust.runners import MasterRunner, WorkerRunner

CONFIG = {
    "username": os.environ.get("BENCH_USERNAME", "bench"),
    "password": os.environ.get("BENCH_PASSWORD", "bench-losenord-inte-hemligt"),
    "login_url": os.environ.get("BENCH_LOGIN_URL", "/konto/logga-in/"),
    "filing_url": os.environ.get("BENCH_FILING_URL", "/rapportera/formular/"),
    # JSON object of form fields to set on top of the generic form filler, e.g. {"agreement": "1"}.
    "filing_fields": json.loads(os.environ.get("BENCH_FILING_FIELDS", "{}") or "{}"),
    # Each simulated reporter fetches the form once, then files this many reports with it (its CSRF
    # token reused, a fresh idempotency key each) before fetching it again.
    "filing_posts_per_form": max(1, int(os.environ.get("BENCH_FILING_POSTS_PER_FORM", "10"))),
    "queue_url": os.environ.get("BENCH_QUEUE_URL", "/arenden/"),
    "queue_filter": os.environ.get("BENCH_QUEUE_FILTER", "status=closed&status=rejected"),
    # bench/run.py sets a signed keyset cursor 200,000 rows down ("after=..."); a page number is ignored.
    "queue_deep": os.environ.get("BENCH_QUEUE_DEEP", "page=2000"),
    "detail_url": os.environ.get("BENCH_DETAIL_URL", "/rapporter/{reference}/"),
    "references_file": os.environ.get("BENCH_REFERENCES_FILE", ""),
    "references": [r for r in os.environ.get("BENCH_REFERENCES", "").split(",") if r],
    "followup_url": os.environ.get(
        "BENCH_FOLLOWUP_URL",
        "/uppfoljning/?agreement={agreement}&period_type=year&year={year}&scope=county&basis=reported_on",
    ),
    "agreement": os.environ.get("BENCH_AGREEMENT", "1"),  # primary key
    "year": os.environ.get("BENCH_YEAR", str(datetime.date.today().year - 1)),
    # Empty: the link to the reports' .xlsx export found on the follow-up page.
    "export_url": os.environ.get("BENCH_EXPORT_URL", ""),
    "stats_file": os.environ.get("BENCH_STATS_FILE", ""),
    # Pre-made signed-in sessions (bench/run.py creates them, so password hashing is not part of the
    # run); without them every simulated user signs in through the login form.
    "sessions": [k for k in os.environ.get("BENCH_SESSIONS", "").split(",") if k],
    "session_cookie": os.environ.get("BENCH_SESSION_COOKIE_NAME", "sessionid"),
}

QUERY_COUNTS: dict[str, list[int]] = defaultdict(list)
NOT_AVAILABLE: dict[str, str] = {}


@events.request.add_listener
def _collect_query_count(name, response=None, exception=None, **kwargs):
    if response is None:
        return
    value = response.headers.get("X-Query-Count") if response.headers else None
    if value is not None and value.isdigit():
        QUERY_COUNTS[name].append(int(value))


@events.quitting.add_listener
def _write_stats(environment, **kwargs):
    if not CONFIG["stats_file"] or isinstance(environment.runner, MasterRunner):
        return  # with --processes the workers saw the responses, each writes its own file
    suffix = f".{os.getpid()}" if isinstance(environment.runner, WorkerRunner) else ""
    Path(CONFIG["stats_file"] + suffix).write_text(
        json.dumps({"query_counts": QUERY_COUNTS, "not_available": NOT_AVAILABLE}, indent=1)
    )


# --- HTML helpers (stdlib only) -----------------------------------------------------------------


class FormParser(HTMLParser):
    """Collects the forms of a page with their fields, and every link."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "form":
            self._form = {
                "action": a.get("action", ""),
                "method": a.get("method", "get").lower(),
                "fields": [],
            }
            self.forms.append(self._form)
        if self._form is None:
            return
        if tag in ("input", "button"):
            self._form["fields"].append(
                {"tag": tag, **a, "type": a.get("type", "text" if tag == "input" else "submit")}
            )
        elif tag == "select":
            self._select = {"tag": "select", **a, "options": []}
            self._form["fields"].append(self._select)
        elif tag == "option" and self._select is not None:
            self._select["options"].append(a)
        elif tag == "textarea":
            self._textarea = {"tag": "textarea", **a, "value": ""}
            self._form["fields"].append(self._textarea)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data


def parse(html: str) -> FormParser:
    parser = FormParser()
    parser.feed(html)
    return parser


#: The report form's free texts (textareas), made unique per filed report.
TEXTS = ("description", "consequence", "actions_taken", "suggested_improvement")


def fill_form(form: dict, overrides: dict) -> dict:
    """Valid-looking values for every field of ``form`` (first choice of selects and radios, Swedish
    text without personal data, a recent date); ``overrides`` wins."""
    data: dict[str, list[str]] = {}
    today = datetime.date.today()
    for f in form["fields"]:
        name = f.get("name")
        if not name:
            continue
        kind = f.get("type", "").lower()
        if f["tag"] == "select":
            options = [o for o in f["options"] if o.get("value", "") != ""]
            chosen = [o for o in options if "selected" in o] or options[:1]
            if chosen:
                data.setdefault(name, []).append(chosen[0].get("value", ""))
        elif f["tag"] == "textarea":
            # Unique per POST: the same text from the same reporter within minutes is the same report.
            text = f"Belastningstest {uuid.uuid4().hex[:8]}: utskrivning utan information till socialtjänsten"
            data[name] = [f.get("value", "").strip() or text]
        elif kind in ("submit", "button", "reset", "image", "file"):
            continue
        elif kind == "radio":
            if name not in data or "checked" in f:
                data[name] = [f.get("value", "on")]
        elif kind == "checkbox":
            if "checked" in f or "required" in f:
                data.setdefault(name, []).append(f.get("value", "on"))
        elif kind == "hidden":
            data[name] = [f.get("value", "")]
        elif f.get("value"):
            data[name] = [f["value"]]
        elif kind == "date":
            data[name] = [(today - datetime.timedelta(days=2)).isoformat()]
        elif kind == "email":
            data[name] = ["bench.rapportor@example.se"]
        elif kind == "tel":
            data[name] = ["08-123 456 78"]
        elif kind == "number":
            data[name] = ["1"]
        else:
            data[name] = ["Belastningstest"]
    for name, value in overrides.items():
        data[name] = value if isinstance(value, list) else [str(value)]
    return data


def main_form(html: str) -> dict | None:
    """The page's POST form with the most fields (not the header's sign-out form)."""
    forms = [f for f in parse(html).forms if f["method"] == "post"]
    return max(forms, key=lambda f: len(f["fields"]), default=None)


def references() -> list[str]:
    refs = list(CONFIG["references"])
    if CONFIG["references_file"] and Path(CONFIG["references_file"]).exists():
        refs += Path(CONFIG["references_file"]).read_text().split()
    return refs or ["SB-2025-00001"]


# --- Scenarios ----------------------------------------------------------------------------------


FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def encode(data: dict) -> str:
    # FastHttpSession does not expand list values itself.
    return urlencode(data, doseq=True)


_session_numbers = itertools.count()


def session_cookie(name: str, value: str, host: str) -> http.cookiejar.Cookie:
    return http.cookiejar.Cookie(
        0, name, value, None, False, host, False, False, "/", True, False, None, False, None, None, {}
    )


class SignedInUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    scenario = ""

    def on_start(self):
        if CONFIG["sessions"]:
            key = CONFIG["sessions"][next(_session_numbers) % len(CONFIG["sessions"])]
            host = re.sub(r"^https?://|:\d+$|/.*$", "", self.host)
            self.client.cookiejar.set_cookie(session_cookie(CONFIG["session_cookie"], key, host))
            return
        page = self.client.get(CONFIG["login_url"], name="login (setup)")
        form = main_form(page.text or "")
        data = fill_form(form, {}) if form else {}
        data.update(username=[CONFIG["username"]], password=[CONFIG["password"]])
        with self.client.post(
            CONFIG["login_url"],
            data=encode(data),
            headers=FORM_HEADERS,
            name="login (setup)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code not in (302, 303):
                response.failure(f"sign-in failed ({response.status_code}): check BENCH_USERNAME/PASSWORD")

    def get_page(self, url: str, name: str):
        with self.client.get(url, name=name, catch_response=True, allow_redirects=False) as response:
            if response.status_code == 404:
                NOT_AVAILABLE[name] = url
                response.failure("not available (404)")
            elif response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            return response


class Filing(SignedInUser):
    """Filing as the target states it: signed-in reporters filing report after report. Each simulated
    user GETs the form ("filing: form", for its CSRF token and fields) once every
    ``BENCH_FILING_POSTS_PER_FORM`` reports (default 10) and POSTs each report ("filing: submit") with
    the same CSRF token and a fresh idempotency key (uuid4), so every POST files a new report. Success
    is the redirect to the receipt; anything else is an error."""

    scenario = "filing"

    def on_start(self):
        super().on_start()
        self.action, self.data, self.posts_left = None, None, 0

    def load_form(self) -> bool:
        form_page = self.get_page(CONFIG["filing_url"], "filing: form")
        form = main_form(form_page.text or "") if form_page.status_code == 200 else None
        if form_page.status_code == 200 and form is None:
            NOT_AVAILABLE["filing: form"] = CONFIG["filing_url"]
        if form is None:
            return False
        self.action = urljoin(CONFIG["filing_url"], form["action"] or CONFIG["filing_url"])
        self.data = fill_form(form, CONFIG["filing_fields"])
        self.posts_left = CONFIG["filing_posts_per_form"]
        return True

    @task
    def file_report(self):
        if self.posts_left <= 0 and not self.load_form():
            return
        self.posts_left -= 1
        # Texts unique per POST: the same text from the same reporter within minutes is the same report.
        unique = {
            name: [f"{values[0]} ({uuid.uuid4().hex[:8]})"]
            for name, values in self.data.items()
            if name in TEXTS
        }
        data = {**self.data, **unique, "idempotency_key": [str(uuid.uuid4())]}
        with self.client.post(
            self.action,
            data=encode(data),
            headers=FORM_HEADERS,
            name="filing: submit",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code in (302, 303):
                response.success()
                return
            self.posts_left = 0  # fetch the form (and CSRF token) again before the next report
            errors = re.findall(
                r'class="[^"]*(?:invalid-feedback|errorlist)[^"]*"[^>]*>\s*([^<]{0,120})',
                response.text or "",
            )
            response.failure(f"HTTP {response.status_code}: form not accepted {errors[:2]}")


class QueueFirst(SignedInUser):
    scenario = "queue-first"

    @task
    def first_page(self):
        self.get_page(CONFIG["queue_url"], "queue: first page")


class QueueFiltered(SignedInUser):
    scenario = "queue-filtered"

    @task
    def filtered_page(self):
        self.get_page(f"{CONFIG['queue_url']}?{CONFIG['queue_filter']}", "queue: filtered page")


class QueueDeep(SignedInUser):
    scenario = "queue-deep"

    @task
    def deep_page(self):
        self.get_page(f"{CONFIG['queue_url']}?{CONFIG['queue_deep']}", "queue: deep page")


class Detail(SignedInUser):
    scenario = "detail"

    def on_start(self):
        super().on_start()
        self.references = references()

    @task
    def detail_page(self):
        reference = random.choice(self.references)
        self.get_page(CONFIG["detail_url"].format(reference=reference), "detail page")


def followup_url() -> str:
    return CONFIG["followup_url"].format(agreement=CONFIG["agreement"], year=CONFIG["year"])


class FollowUp(SignedInUser):
    scenario = "followup"

    @task
    def followup_page(self):
        self.get_page(followup_url(), "follow-up page")


class Export(SignedInUser):
    """The XLSX export of one agreement-year, read to the end (it is streamed). Two timings per export:
    "export: xlsx first byte" (the response's headers, which leave with its first bytes) and
    "export: xlsx" (the whole file read). bench/run.py counts them as one request."""

    scenario = "export"

    def on_start(self):
        super().on_start()
        self.export_url = CONFIG["export_url"]
        if not self.export_url:
            page = self.client.get(followup_url(), name="export: follow-up page (setup)")
            links = (
                [h for h in parse(page.text or "").links if "rapporter.xlsx" in h.lower()]
                if page.status_code == 200
                else []
            )
            self.export_url = urljoin(followup_url(), links[0]) if links else ""

    @task
    def export(self):
        if not self.export_url:
            NOT_AVAILABLE["export: xlsx"] = "no .xlsx link on the follow-up page (set BENCH_EXPORT_URL)"
            self.environment.runner.quit()
            return
        start = time.perf_counter()
        size, error = 0, None
        # stream=True: locust times the request to its headers (the first bytes) and leaves the body.
        with self.client.get(
            self.export_url,
            name="export: xlsx first byte",
            stream=True,
            catch_response=True,
            allow_redirects=False,
        ) as response:
            if response.status_code == 404:
                NOT_AVAILABLE["export: xlsx"] = self.export_url
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                error = RuntimeError(f"HTTP {response.status_code}")
            else:
                try:
                    for chunk in response.iter_content(64 * 1024, decode_content=False):
                        size += len(chunk)
                except Exception as exc:  # noqa: BLE001 - a broken download is this request's failure
                    error = exc
        self.environment.events.request.fire(
            request_type="GET",
            name="export: xlsx",
            response_time=(time.perf_counter() - start) * 1000,
            response_length=size,
            exception=error,
            context={},
        )
