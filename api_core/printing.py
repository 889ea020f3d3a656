"""Printouts: the language a printout is asked in, and an HTML page as a PDF.

One home for both, so the committee's agenda and minutes and the situation
report are printed the same way."""
from django.conf import settings
from django.http import HttpResponse
from django.utils import translation


def printout_language(request) -> str:
    """``?lang=`` when it names a language of the site, else the reader's own."""
    language = request.GET.get("lang") or translation.get_language()
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def pdf_of(html: str) -> bytes:
    # Imported here: WeasyPrint loads pango when imported, which only PDFs need.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # The pages carry their styles and pictures inline: nothing is fetched, so a
    # URL typed into a record can never make the server read a file or call a host.
    return HTML(string=html, base_url=None, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf()


def pdf_response(html: str, *, filename: str, download: bool = True) -> HttpResponse:
    """``html`` as a PDF; ``download`` saves it, otherwise the browser shows it."""
    response = HttpResponse(pdf_of(html), content_type="application/pdf")
    response["Content-Disposition"] = f'{"attachment" if download else "inline"}; filename="{filename}"'
    return response
