"""Time to first byte, total time and memory of the reports' exports (CSV and XLSX) of one
agreement-year, measured in this process through the export view itself: read-only (no session, no
login, nothing written), one export at a time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench .venv/bin/python -m bench.exports
    .venv/bin/python -m bench.exports --agreement 3 --year 2025 --formats xlsx

Per format: the rows exported, the time to the first chunk of the response, to the second (the first
that holds rows when the first is the header or the workbook's frame) and to its end (wall and this
process's CPU), the bytes, and the process's resident memory before the request, at the first
chunk and at its peak while streaming (sampled at every chunk): constant memory shows as a peak that
does not grow with the rows. The agreement defaults to the one with the most reports, the year to last
year (what ``bench.run``'s export scenario downloads).
"""

import argparse
import datetime
import os
import sys
import time


def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        resident_pages = int(fh.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(view, request, fmt: str) -> dict:
    before = rss_mib()
    wall, cpu = time.perf_counter(), time.process_time()
    response = view(request, what="rapporter", fmt=fmt)
    assert response.status_code == 200, response.status_code
    first = rows = None
    size = 0
    peak = before
    at_first = None
    for chunk in response.streaming_content if response.streaming else [response.content]:
        if first is None:
            first = (time.perf_counter() - wall, time.process_time() - cpu)
            at_first = rss_mib()
        elif rows is None:
            rows = time.perf_counter() - wall
        size += len(chunk)
        peak = max(peak, rss_mib())
    response.close()
    return {
        "format": fmt,
        "first_s": first[0],
        "first_cpu_s": first[1],
        "rows_s": rows if rows is not None else first[0],
        "total_s": time.perf_counter() - wall,
        "total_cpu_s": time.process_time() - cpu,
        "bytes": size,
        "rss_before": before,
        "rss_first": at_first,
        "rss_peak": peak,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agreement", help="primary key (default: the agreement with most reports)")
    parser.add_argument("--year", type=int, default=datetime.date.today().year - 1)
    parser.add_argument("--formats", default="csv,xlsx")
    args = parser.parse_args(argv)
    from bench.run import setup_in_process

    setup_in_process()
    from django.db.models import Count
    from django.test import RequestFactory
    from django.urls import reverse

    from councils.models import Council, CouncilMembership
    from deviations.models import Deviation
    from followup.views.followup import export

    agreement = (
        args.agreement
        or (
            Deviation.objects.values("agreement")
            .order_by()
            .annotate(n=Count("id"))
            .order_by("-n")[0]["agreement"]
        )
    )
    membership = (
        CouncilMembership.objects.filter(council__level=Council.Level.REGIONAL, council__active=True)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if membership is None:
        raise SystemExit("No member of a regional council: run `python -m bench.generate` first.")
    rows = Deviation.objects.filter(agreement=agreement, reported_on__year=args.year).count()
    print(f"agreement {agreement}, {args.year}: {rows:,} reports (the export leaves out unconfirmed ones)")
    selection = {
        "agreement": agreement,
        "period_type": "year",
        "year": args.year,
        "scope": "county",
        "basis": "reported_on",
    }
    print(
        "| format | first byte s (CPU s) | first rows s | whole file s (CPU s) | MiB sent "
        "| RSS MiB before / first byte / peak |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for fmt in [f.strip() for f in args.formats.split(",") if f.strip()]:
        request = RequestFactory().get(reverse("followup:export", args=["rapporter", fmt]), selection)
        request.user = membership.user
        r = measure(export, request, fmt)
        print(
            f"| {fmt} | {r['first_s']:.2f} ({r['first_cpu_s']:.2f}) | {r['rows_s']:.2f} | {r['total_s']:.1f} "
            f"({r['total_cpu_s']:.1f}) | {r['bytes'] / 2**20:.1f} | {r['rss_before']:.0f} / "
            f"{r['rss_first']:.0f} / {r['rss_peak']:.0f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
