"""Reading the admin's CSV and XLSX exports back in tests."""
import csv
import io

import openpyxl


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode())))


def xlsx_rows(response) -> list[list[str]]:
    """The cells of the only sheet, as the CSV writes them: None → "", True → "True"."""
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith('attachment; filename="puente-')
    assert response["Content-Disposition"].endswith('.xlsx"')
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    (sheet,) = workbook.worksheets
    return [["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)]
