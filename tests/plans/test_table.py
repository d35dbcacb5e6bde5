"""Reading plan tables from CSV and XLSX."""

from __future__ import annotations

import csv
import tracemalloc
from datetime import date, datetime
from itertools import islice
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.plans.dates import Reason
from bot.plans.table import (
    FIELDS,
    PlanTableReader,
    match_header,
    read_plan_table,
    row_to_json,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REF = date(2013, 1, 31)
HEADER = [
    "Quoi (l'activité)",
    "Où (lieu de la MOA1)",
    "Quant (date de MOA)",
    "Le responsable sur la",
    "Comment (la MOA)",
    "Livrables",
]
ROW = ["Réunion", "Siège de la commune", "Fin Mars 2013", "Comité TS", "Réunion", "Compte rendu"]


def write_csv(
    path: Path, rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = Workbook()
    for cells in rows:
        workbook.active.append(cells)
    workbook.save(path)
    return path


# -- the Bouanane plan --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bouanane_plan.csv", "bouanane_plan.xlsx"])
def test_bouanane_plan_reads_valid_with_seed_dates(name: str) -> None:
    table = read_plan_table(FIXTURES / name, REF)
    assert table.errors == []
    assert table.is_valid
    assert list(table.columns) == list(FIELDS)
    assert [row.number for row in table.rows] == [2, 3, 5, 6, 7]  # line 4 is blank in the plan
    assert [row.due.value for row in table.rows] == [
        datetime(2013, 2, 3, 10, 30),
        date(2013, 2, 28),
        date(2013, 3, 31),
        None,
        date(2013, 5, 7),
    ]
    avril = table.rows[3]
    assert (avril.due_text, avril.due.needs_confirmation, avril.due.reason) == (
        "Avril",
        True,
        Reason.MISSING_YEAR,
    )
    assert table.needs_confirmation == [avril]
    first = table.rows[0]
    assert first.what == "Réunion d'échange/préparatoire"
    assert first.where == "Siège de la commune"
    assert first.owner == "M Jaouad ELAFOUI (comité TS)"
    assert first.how == "élaboration de la vision"
    assert first.deliverables == "Compte rendu de la réunion"


def test_csv_and_xlsx_give_the_same_rows() -> None:
    from_csv = read_plan_table(FIXTURES / "bouanane_plan.csv", REF)
    from_xlsx = read_plan_table(FIXTURES / "bouanane_plan.xlsx", REF)
    assert [row_to_json(r) for r in from_csv.rows] == [row_to_json(r) for r in from_xlsx.rows]


def test_row_to_json() -> None:
    table = read_plan_table(FIXTURES / "bouanane_plan.csv", REF)
    assert row_to_json(table.rows[0]) == {
        "row": 2,
        "what": "Réunion d'échange/préparatoire",
        "where": "Siège de la commune",
        "due": "2013-02-03T10:30",
        "due_text": "Dimanche 3 février 13 à 10h30",
        "needs_confirmation": False,
        "reason": None,
        "suggestion": None,
        "owner": "M Jaouad ELAFOUI (comité TS)",
        "how": "élaboration de la vision",
        "deliverables": "Compte rendu de la réunion",
        "errors": [],
    }
    avril = row_to_json(table.rows[3])
    assert (avril["due"], avril["needs_confirmation"], avril["suggestion"]) == (
        None,
        True,
        "2013-04-30",
    )


# -- headers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Quoi (l'activité)", "what"),
        ("QUOI", "what"),
        ("Activité", "what"),
        ("Où (lieu de la MOA1)", "where"),
        ("Ou", "where"),
        ("Lieu", "where"),
        ("Quant (date de MOA)", "due"),
        ("Quand", "due"),
        ("Échéance", "due"),
        ("Le responsable sur la", "owner"),
        ("Responsable", "owner"),
        ("Qui ?", "owner"),
        ("Comment (la MOA)", "how"),
        ("Livrables", "deliverables"),
        ("livrable", "deliverables"),
        ("Observations", None),
        ("", None),
        ("(vide)", None),
    ],
)
def test_match_header(header: str, expected: str | None) -> None:
    assert match_header(header) == expected


# -- CSV dialects and encodings ------------------------------------------------------------------


def test_bom_and_semicolon(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", [HEADER, ROW], delimiter=";", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    table = read_plan_table(path, REF)
    assert table.is_valid, table.errors
    assert table.columns["what"] == "Quoi (l'activité)"  # the BOM is not part of the header
    assert table.rows[0].due.value == date(2013, 3, 31)


def test_tab_separated_as_in_the_guide(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", [HEADER, ROW], delimiter="\t")
    table = read_plan_table(path, REF)
    assert table.is_valid
    assert table.rows[0].owner == "Comité TS"


def test_windows_1252_from_french_excel(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", [HEADER, ROW], delimiter=";", encoding="cp1252")
    table = read_plan_table(path, REF)
    assert table.is_valid
    assert table.rows[0].where == "Siège de la commune"


def test_commas_inside_cells_do_not_fool_the_sniffer(tmp_path: Path) -> None:
    row = ["Réunion, visite; atelier", "Siège", "Fin Mars 2013", "Comité TS", "a, b, c", "x"]
    path = write_csv(tmp_path / "plan.csv", [HEADER, row], delimiter=";")
    table = read_plan_table(path, REF)
    assert table.is_valid
    assert table.rows[0].what == "Réunion, visite; atelier"


def test_multiline_cell_row_number_is_where_the_record_starts(tmp_path: Path) -> None:
    rows = [HEADER, ["Ligne 1\nligne 2", *ROW[1:]], ROW]
    table = read_plan_table(write_csv(tmp_path / "plan.csv", rows), REF)
    assert [row.number for row in table.rows] == [2, 4]
    assert table.rows[0].what == "Ligne 1\nligne 2"


def test_title_line_above_header_is_skipped(tmp_path: Path) -> None:
    rows = [["Plan d'actions /travail :"], [], HEADER, ROW]
    table = read_plan_table(write_csv(tmp_path / "plan.csv", rows), REF)
    assert table.is_valid
    assert [row.number for row in table.rows] == [4]


# -- validation ---------------------------------------------------------------------------------


def test_missing_column_makes_the_table_invalid(tmp_path: Path) -> None:
    rows = [HEADER[:5], ROW[:5]]
    table = read_plan_table(write_csv(tmp_path / "plan.csv", rows), REF)
    assert table.errors == ["missing_columns:deliverables"]
    assert not table.is_valid
    assert len(table.rows) == 1  # rows are still checked, for a complete report


def test_row_without_quoi_makes_the_table_invalid(tmp_path: Path) -> None:
    rows = [HEADER, ROW, ["", *ROW[1:]], ROW]
    table = read_plan_table(write_csv(tmp_path / "plan.csv", rows), REF)
    assert table.errors == []
    assert not table.is_valid
    assert [row.errors for row in table.rows] == [[], ["missing_what"], []]
    assert row_to_json(table.rows[1])["errors"] == ["missing_what"]


def test_every_row_error_is_reported(tmp_path: Path) -> None:
    rows = [HEADER, ["Réunion", "", "", "", "", ""], ["", "Siège", "Avril", "  ", "", ""]]
    table = read_plan_table(write_csv(tmp_path / "plan.csv", rows), REF)
    assert [row.errors for row in table.rows] == [
        ["missing_due", "missing_owner"],
        ["missing_what", "missing_owner"],
    ]


def test_needs_confirmation_is_not_an_error(tmp_path: Path) -> None:
    rows = [HEADER, ["Réunion", "", "dès que possible", "Comité TS", "", ""]]
    table = read_plan_table(write_csv(tmp_path / "plan.csv", rows), REF)
    assert table.is_valid
    assert table.rows[0].due.needs_confirmation


def test_short_rows_are_padded(tmp_path: Path) -> None:
    rows = [HEADER, ["Réunion", "Siège", "Fin Mars 2013", "Comité TS"]]
    table = read_plan_table(write_csv(tmp_path / "plan.csv", rows), REF)
    assert table.is_valid
    assert (table.rows[0].how, table.rows[0].deliverables) == ("", "")


def test_duplicate_columns(tmp_path: Path) -> None:
    rows = [[*HEADER, "Responsable"], [*ROW, "Autre"]]
    table = read_plan_table(write_csv(tmp_path / "plan.csv", rows), REF)
    assert table.errors == ["duplicate_columns:owner"]


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        ([], "empty"),
        ([[], ["", " "]], "empty"),
        ([HEADER], "empty"),
        ([["a", "b"], ["c", "d"]], "missing_columns:" + ",".join(FIELDS)),
    ],
)
def test_file_level_errors(tmp_path: Path, rows: list[list[str]], error: str) -> None:
    table = read_plan_table(write_csv(tmp_path / "plan.csv", rows), REF)
    assert table.errors == [error]
    assert not table.is_valid
    assert table.rows == []


def test_unsupported_and_unreadable_files(tmp_path: Path) -> None:
    odt = tmp_path / "plan.odt"
    odt.write_bytes(b"whatever")
    assert read_plan_table(odt, REF).errors == ["unsupported_format"]

    fake = tmp_path / "plan.xlsx"
    fake.write_bytes(b"this is not a zip")
    table = read_plan_table(fake, REF)
    assert table.errors[0].startswith("unreadable:")
    assert not table.is_valid

    missing = read_plan_table(tmp_path / "absent.csv", REF)
    assert missing.errors == ["unreadable:FileNotFoundError"]


def test_csv_that_stops_being_text_halfway_is_unreadable(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", [HEADER] + [ROW] * 3000)
    with path.open("ab") as f:
        f.write(b"\xff\xfe\xfa,broken\n")
    table = read_plan_table(path, REF)
    assert table.errors == ["unreadable:UnicodeDecodeError"]
    assert not table.is_valid


# -- XLSX specifics -----------------------------------------------------------------------------


def test_xlsx_real_date_cells(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        HEADER,
        ["A", "", datetime(2013, 3, 15), "Comité TS", "", ""],
        ["B", "", datetime(2013, 3, 15, 10, 30), "Comité TS", "", ""],
        ["C", "", date(2012, 3, 15), "Comité TS", "", ""],
        ["D", "", 42, "Comité TS", "", ""],
    ]
    table = read_plan_table(write_xlsx(tmp_path / "plan.xlsx", rows), REF)
    a, b, c, d = table.rows
    assert (a.due.value, a.due_text, a.due.needs_confirmation) == (
        date(2013, 3, 15),
        "2013-03-15",
        False,
    )
    assert (b.due.value, b.due_text) == (datetime(2013, 3, 15, 10, 30), "2013-03-15T10:30")
    assert (c.due.needs_confirmation, c.due.reason) == (True, Reason.BEFORE_REFERENCE)
    assert (d.due_text, d.due.value, d.due.needs_confirmation) == ("42", None, True)
    assert table.is_valid


def test_xlsx_row_numbers_follow_the_sheet_across_gaps(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    for column, value in enumerate(HEADER, start=1):
        sheet.cell(row=3, column=column, value=value)
    for column, value in enumerate(ROW, start=1):
        sheet.cell(row=9, column=column, value=value)
    path = tmp_path / "plan.xlsx"
    workbook.save(path)
    table = read_plan_table(path, REF)
    assert table.is_valid
    assert [row.number for row in table.rows] == [9]


# -- streaming ----------------------------------------------------------------------------------


def test_reader_is_lazy_and_reports_progress(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", [HEADER] + [ROW] * 10)
    seen: list[int] = []
    reader = PlanTableReader(path, REF, on_row=seen.append)
    rows = iter(reader)
    first = next(rows)
    assert first.number == 2
    assert seen == [1]
    assert sum(1 for _ in rows) == 9
    assert seen == list(range(1, 11))
    assert reader.errors == []


def test_50000_rows_stream_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=";", lineterminator="\n")
        writer.writerow(HEADER)
        for n in range(50_000):
            writer.writerow([f"Action {n} " + "x" * 40, "Siège", "Fin Mars 2013", "Comité", "", ""])
    size = path.stat().st_size
    assert size > 4_000_000

    progress = [0]

    def on_row(n: int) -> None:
        progress[0] = n

    assert sum(1 for row in PlanTableReader(path, REF, on_row=on_row) if not row.errors) == 50_000
    assert progress == [50_000]

    # Tracing allocations is slow, so trace the first 5,000 rows only: a reader that loaded the
    # whole file before its first row would already have allocated more than the file's size.
    tracemalloc.start()
    try:
        count = sum(1 for _ in islice(PlanTableReader(path, REF), 5_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 5_000
    assert peak < size / 2

    assert len(read_plan_table(path, REF).rows) == 50_000
