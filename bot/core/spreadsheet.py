"""Spreadsheets people open: a cell must never become a formula (OWASP "CSV injection").

A name or a summary written as "=HYPERLINK(...)" by anyone who can talk to the bot or fill a
plan table would run in the spreadsheet of the coach who opens the export.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

# What spreadsheet programs read as the start of a formula (OWASP's list).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_LEADS)


def csv_cell(value: Any) -> Any:
    """A CSV cell: a leading quote turns a formula-like text into plain text."""
    return f"'{value}" if is_formula_like(value) else value


def xlsx_text_cells(sheet: Worksheet) -> int:
    """Make every formula-like text of a sheet a text cell (not a formula), shown as written.

    The value is kept as is (a re-import reads the same text); the cell is stored as a string
    with Excel's quote prefix, so editing it does not turn it into a formula either.
    Returns how many cells were neutralised.
    """
    count = 0
    for row in sheet.iter_rows():
        for cell in row:
            if is_formula_like(cell.value):
                cell.data_type = "s"
                cell.quotePrefix = True
                count += 1
    return count
