"""Write a plan back to XLSX, in the field's table shape, so it reads like the paper plan."""

from __future__ import annotations

import io
from collections.abc import Sequence

from bot.core.spreadsheet import xlsx_text_cells
from bot.plans import service
from storage.models import ActionPlan, Actor, Commitment

HEADER = ("Quoi", "Où", "Quand", "Responsable", "Comment", "Livrables", "Échéance", "Statut")


def plan_xlsx(
    plan: ActionPlan, commitments: Sequence[Commitment], owners: dict[int, Actor]
) -> bytes:
    """The six columns as written, plus the resolved deadline and the status.

    "Quand" keeps the original text, so re-importing the file gives the same plan.
    """
    # Imported here: a few MiB and a fraction of a second the running bot rarely needs.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Plan"[:31]
    sheet.append(list(HEADER))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for c in commitments:
        owner = owners.get(c.owner_id) if c.owner_id else None
        resolved = None if c.due_needs_confirmation else service.local_due(c)
        sheet.append(
            [
                c.what,
                c.where,
                c.due_text,
                owner.display_name if owner else c.owner_text,
                c.how,
                c.deliverables,
                resolved,
                c.status,
            ]
        )
    xlsx_text_cells(sheet)  # a "=..." from an imported table or a name stays text
    for column, width in zip("ABCDEFGH", (40, 24, 24, 24, 30, 30, 16, 12), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
