"""Read a "plan d'action concerté" table (Quoi | Où | Quand | Responsable | Comment | Livrables).

Accepted files: ``.csv`` (UTF-8 with or without BOM; a file that is not UTF-8 is read as
Windows-1252, which is what a French Excel writes; delimiter sniffed among ``,`` ``;`` and tab)
and ``.xlsx`` (first worksheet, read-only mode).

* The header is the first row, among the first ``HEADER_SCAN_ROWS`` non-blank ones, in which at
  least three columns are recognised, so a title line above the table is tolerated.
* All six columns are required; in each row ``what``, ``due`` and ``owner`` must be filled.
* ``PlanRow.number`` is the row's position **in the file** (spreadsheet row / CSV line where the
  record starts, 1-based, header included), so a person can find it in Excel or an editor.
* Validation is complete: every row is checked and every error reported, and ``is_valid`` is
  false if anything is wrong. A due date that needs confirmation is a flag, not an error.
* Reading streams: ``PlanTableReader`` is a generator over the file, so a large table is never
  held in memory as text or cells, only (if the caller keeps them) as ``PlanRow`` objects.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from bot.plans.dates import DueDate, due_from_value, normalize, resolve_due

__all__ = [
    "FIELDS",
    "REQUIRED_FIELDS",
    "PlanRow",
    "PlanTable",
    "PlanTableReader",
    "match_header",
    "read_plan_table",
    "row_to_json",
]

FIELDS = ("what", "where", "due", "owner", "how", "deliverables")
REQUIRED_FIELDS = ("what", "due", "owner")
HEADER_SCAN_ROWS = 10
_SNIFF_BYTES = 64 * 1024
_DELIMITERS = (",", ";", "\t")

# First significant word of a header (accents and case removed) -> field. Variants seen in plans:
# "Quant (date de MOA)" (sic), "Le responsable sur la", "Où (lieu de la MOA1)".
_HEADER_WORDS: dict[str, str] = {
    "quoi": "what",
    "activite": "what",
    "activites": "what",
    "action": "what",
    "actions": "what",
    "what": "what",
    "ou": "where",
    "lieu": "where",
    "where": "where",
    "quand": "due",
    "quant": "due",
    "date": "due",
    "echeance": "due",
    "delai": "due",
    "when": "due",
    "due": "due",
    "responsable": "owner",
    "responsables": "owner",
    "qui": "owner",
    "porteur": "owner",
    "who": "owner",
    "owner": "owner",
    "comment": "how",
    "moyens": "how",
    "modalites": "how",
    "how": "how",
    "livrable": "deliverables",
    "livrables": "deliverables",
    "resultats": "deliverables",
    "deliverables": "deliverables",
}
_LEADING_ARTICLE = re.compile(r"^(?:le|la|les|l')\s*")


def match_header(header: str) -> str | None:
    """The field a header cell stands for, or None: ``"Quant (date de MOA)"`` -> ``"due"``."""
    text = normalize(header).split("(")[0]
    text = _LEADING_ARTICLE.sub("", text.strip())
    words = re.findall(r"[a-z]+", text)
    return _HEADER_WORDS.get(words[0]) if words else None


@dataclass(slots=True)
class PlanRow:
    """One commitment as read from the table; ``errors`` are machine codes."""

    number: int
    what: str
    where: str
    due_text: str
    due: DueDate
    owner: str
    how: str
    deliverables: str
    errors: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PlanTable:
    rows: list[PlanRow]
    errors: list[str]
    # field -> the header as written in the file, for messages that quote the user's own words.
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return not self.errors and all(not row.errors for row in self.rows)

    @property
    def needs_confirmation(self) -> list[PlanRow]:
        return [row for row in self.rows if row.due.needs_confirmation]


def row_to_json(row: PlanRow) -> dict[str, Any]:
    """The row as ``hotline plan import --dry-run --json`` prints it.

    ``reason`` and ``suggestion`` explain a ``needs_confirmation`` flag (null otherwise).
    """
    return {
        "row": row.number,
        "what": row.what,
        "where": row.where,
        "due": row.due.iso(),
        "due_text": row.due_text,
        "needs_confirmation": row.due.needs_confirmation,
        "reason": row.due.reason,
        "suggestion": _iso(row.due.suggestion),
        "owner": row.owner,
        "how": row.how,
        "deliverables": row.deliverables,
        "errors": list(row.errors),
    }


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="minutes") if isinstance(value, datetime) else value.isoformat()


class PlanTableReader:
    """Iterate the rows of a plan table lazily; ``errors`` and ``columns`` fill in as it goes.

    File-level errors: ``unreadable:<exception name>``, ``unsupported_format``, ``empty``,
    ``missing_columns:<field>,<field>``, ``duplicate_columns:<field>``. They are complete once
    iteration has finished; when no header is found no row is yielded.
    """

    def __init__(
        self,
        path: Path,
        reference: date,
        on_row: Callable[[int], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.reference = reference
        self.on_row = on_row
        self.errors: list[str] = []
        self.columns: dict[str, str] = {}
        self.row_count = 0

    def __iter__(self) -> Iterator[PlanRow]:
        suffix = self.path.suffix.lower()
        if suffix == ".csv":
            records = self._csv_records()
        elif suffix in (".xlsx", ".xlsm"):
            records = self._xlsx_records()
        else:
            self.errors.append("unsupported_format")
            return
        try:
            yield from self._rows(records)
        except Exception as exc:
            # A damaged upload (bad zip, malformed XML, bytes that are not text...) must end up
            # as a report to the user, whatever the parser raised.
            self.errors.append(f"unreadable:{type(exc).__name__}")

    # -- sources: both yield (file row number, cells) -------------------------------------------

    def _csv_records(self) -> Iterator[tuple[int, list[Any]]]:
        with self.path.open("rb") as raw:
            head = raw.read(_SNIFF_BYTES)
            encoding = _guess_encoding(head)
            raw.seek(0)
            text = io.TextIOWrapper(raw, encoding=encoding, newline="")
            sample = head.decode(encoding, errors="ignore")
            reader = csv.reader(text, delimiter=_sniff_delimiter(sample))
            line = 0
            for cells in reader:
                yield line + 1, cells
                line = reader.line_num

    def _xlsx_records(self) -> Iterator[tuple[int, list[Any]]]:
        # Imported here: openpyxl is slow to import and only needed for spreadsheets.
        from openpyxl import load_workbook

        workbook = load_workbook(self.path, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(cells)
        finally:
            workbook.close()

    # -- shared logic ---------------------------------------------------------------------------

    def _rows(self, records: Iterable[tuple[int, list[Any]]]) -> Iterator[PlanRow]:
        positions: dict[str, int] | None = None
        scanned = 0
        for number, cells in records:
            if _is_blank(cells):
                continue
            if positions is None:
                scanned += 1
                positions = self._header(cells)
                if positions is None and scanned >= HEADER_SCAN_ROWS:
                    break
                # Rows are still read after a column error so the report is complete.
                continue
            row = self._row(number, cells, positions)
            self.row_count += 1
            if self.on_row is not None:
                self.on_row(self.row_count)
            yield row
        if positions is None:
            if scanned == 0:
                self.errors.append("empty")
            else:
                self.errors.append("missing_columns:" + ",".join(FIELDS))
        elif self.row_count == 0 and not self.errors:
            self.errors.append("empty")

    def _header(self, cells: list[Any]) -> dict[str, int] | None:
        """Column positions if ``cells`` looks like the header row, else None."""
        found: dict[str, list[int]] = {}
        for index, cell in enumerate(cells):
            name = match_header(_text(cell))
            if name is not None:
                found.setdefault(name, []).append(index)
        if len(found) < 3:
            return None
        duplicates = [name for name in FIELDS if len(found.get(name, ())) > 1]
        if duplicates:
            self.errors.append("duplicate_columns:" + ",".join(duplicates))
        missing = [name for name in FIELDS if name not in found]
        if missing:
            self.errors.append("missing_columns:" + ",".join(missing))
        self.columns = {name: _text(cells[found[name][0]]) for name in FIELDS if name in found}
        return {name: indexes[0] for name, indexes in found.items()}

    def _row(self, number: int, cells: list[Any], positions: dict[str, int]) -> PlanRow:
        def cell(name: str) -> Any:
            index = positions.get(name)
            return cells[index] if index is not None and index < len(cells) else None

        raw_due = cell("due")
        if isinstance(raw_due, datetime | date):
            due = due_from_value(raw_due, self.reference)
            due_text = due.text
        elif isinstance(raw_due, time):
            # A bare time cell: no day to hold on to.
            due_text = raw_due.isoformat(timespec="minutes")
            due = resolve_due(due_text, self.reference)
        else:
            due_text = _text(raw_due)
            due = resolve_due(due_text, self.reference)

        row = PlanRow(
            number=number,
            what=_text(cell("what")),
            where=_text(cell("where")),
            due_text=due_text,
            due=due,
            owner=_text(cell("owner")),
            how=_text(cell("how")),
            deliverables=_text(cell("deliverables")),
        )
        for name in REQUIRED_FIELDS:
            value = row.due_text if name == "due" else getattr(row, name)
            if not value:
                row.errors.append(f"missing_{name}")
        return row


def read_plan_table(
    path: Path,
    reference: date,
    on_row: Callable[[int], None] | None = None,
) -> PlanTable:
    """Read and validate a whole plan table (``on_row(n)`` reports progress every row)."""
    reader = PlanTableReader(path, reference, on_row)
    rows = list(reader)
    return PlanTable(rows=rows, errors=reader.errors, columns=reader.columns)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime | date):
        return _iso(value) or ""
    return str(value).strip()


def _is_blank(cells: list[Any]) -> bool:
    return all(_text(cell) == "" for cell in cells)


def _guess_encoding(head: bytes) -> str:
    """UTF-8 (BOM stripped) unless the first bytes are not UTF-8; then Windows-1252."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)  # a character cut at the end of the sample is fine
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def _sniff_delimiter(sample: str) -> str:
    """The delimiter under which the sample shows the most recognised headers (then columns)."""
    lines = sample.splitlines()[: HEADER_SCAN_ROWS * 2]
    best, best_score = ",", (-1, -1)
    for delimiter in _DELIMITERS:
        try:
            records = list(csv.reader(lines, delimiter=delimiter))
        except csv.Error:
            continue
        headers = max((sum(match_header(c) is not None for c in r) for r in records), default=0)
        columns = max((len(r) for r in records), default=0)
        if (headers, columns) > best_score:
            best, best_score = delimiter, (headers, columns)
    return best
