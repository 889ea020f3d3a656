"""Exports of an admin list as CSV and as XLSX, both written from the admin's
one row source, so the two files always have the same columns and rows."""
import csv
import io
from collections.abc import Iterable

from django.contrib import admin
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(content_type: str, name: str, extension: str) -> HttpResponse:
    response = HttpResponse(content_type=content_type)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="puente-{name}-{stamp}.{extension}"'
    return response


# A cell a spreadsheet would read as a formula (CSV has no types to say otherwise).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value):
    """Text that a spreadsheet would run as a formula is written with a leading
    apostrophe, which spreadsheets show as text (OWASP's advice for CSV injection)."""
    return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def csv_download(name: str, header: list[str], rows) -> HttpResponse:
    response = _download("text/csv; charset=utf-8", name, "csv")
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows([_csv_cell(value) for value in row] for row in rows)
    return response


def _xlsx_cell(sheet, value):
    cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value)
    if isinstance(value, str):
        cell.data_type = "s"  # a title typed as "=…" stays text: never a formula the spreadsheet runs
    return cell


def xlsx_download(name: str, header: list[str], rows) -> HttpResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(name[:31])
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = _download(XLSX, name, "xlsx")
    response.write(buffer.getvalue())
    return response


class ExportActions:
    """The "Export to CSV" and "Export to XLSX" actions of an admin list.

    The admin names the file (``export_name``) and gives ``export_table``: the
    header and the rows, with columns chosen to name no migrant."""
    export_name: str

    def export_table(self, request, queryset) -> tuple[list[str], Iterable[list]]:
        raise NotImplementedError

    @admin.action(description=_("Export to CSV (no personal data)"))
    def export_csv(self, request, queryset):
        return csv_download(self.export_name, *self.export_table(request, queryset))

    @admin.action(description=_("Export to XLSX (no personal data)"))
    def export_xlsx(self, request, queryset):
        return xlsx_download(self.export_name, *self.export_table(request, queryset))
