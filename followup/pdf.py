"""PDF documents rendered with WeasyPrint from ordinary templates, in the request.

Tagged and accessible: WeasyPrint writes PDF/UA-1 (a structure tree of headings, lists, tables and
figures, the document language from ``<html lang>``, the title from ``<title>`` shown as the window
title). The documents only ever hold aggregated rows, so they render in the request, no background
task needed.
"""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string

PRINT_CSS = "css/print.css"
PDF_VARIANT = "pdf/ua-1"


def render_pdf(*, template: str, context: dict, request=None) -> bytes:
    from weasyprint import CSS, HTML

    html = render_to_string(template, context, request=request)
    css_path = finders.find(PRINT_CSS) or str(Path(settings.BASE_DIR) / "static" / PRINT_CSS)
    # PDF/UA-1: a tagged PDF (headings, tables, lists in a structure tree) with the document language
    # from the template's <html lang>, for screen readers.
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
        stylesheets=[CSS(filename=css_path)], pdf_variant=PDF_VARIANT
    )


def pdf_response(*, template: str, context: dict, filename: str, request=None) -> HttpResponse:
    response = HttpResponse(
        render_pdf(template=template, context=context, request=request), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
