"""Only bot.cases.lifecycle changes a case or writes its timeline (read from the source)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from storage.models import Base, Case

BOT = Path(__file__).resolve().parents[2] / "bot"
WRITER = BOT / "cases" / "lifecycle.py"
MODELS = {"Case", "CaseEvent"}
COLUMNS = {c.name for c in Case.__table__.columns} - {"id"}
# Columns no other table has: writing one is writing a case, whatever the variable's name.
OTHERS = {c.name for t in Base.metadata.tables.values() if t.name != "cases" for c in t.columns}
CASE_ONLY = COLUMNS - OTHERS
# Statements that bypass the ORM. Erasing what a person said from the timeline (privacy)
# is an `update(CaseEvent)` and stays allowed: it changes no state and appends nothing.
BULK = {("update", "Case"), ("insert", "Case"), ("insert", "CaseEvent")}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _targets(node: ast.AST) -> Iterator[ast.expr]:
    if isinstance(node, ast.Assign):
        for target in node.targets:
            yield from (target.elts if isinstance(target, ast.Tuple) else [target])
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        yield node.target


def violations(source: str) -> list[str]:
    """What in this source writes a case or its events: `line: what`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            called = _name(node.func)
            if called in MODELS:
                found.append((node.lineno, f"builds {called}"))
            elif node.args and (called, _name(node.args[0])) in BULK:
                found.append((node.lineno, f"{called}({_name(node.args[0])})"))
        for target in _targets(node):
            if not isinstance(target, ast.Attribute) or target.attr not in COLUMNS:
                continue
            if "case" in _name(target.value).lower() or target.attr in CASE_ONLY:
                found.append((target.lineno, f"sets {_name(target.value)}.{target.attr}"))
    return [f"{line}: {what}" for line, what in sorted(found)]


def test_the_lifecycle_is_the_only_writer_of_cases() -> None:
    found = {
        f"{path.relative_to(BOT.parent)}:{line}"
        for path in sorted(BOT.rglob("*.py"))
        if path != WRITER
        for line in violations(path.read_text(encoding="utf-8"))
    }
    assert not found, "case state written outside bot/cases/lifecycle.py:\n" + "\n".join(
        sorted(found)
    )


def test_the_check_sees_every_kind_of_write() -> None:
    source = """
case.status = "resolved"
row.case.coach_id = 3
existing.helpful, other = True, 1
case.summary += "!"
anything.sla_check_at = None
session.add(CaseEvent(case_id=1, kind="opened"))
models.Case(actor_id=1)
update(Case).values(status="closed")
insert(CaseEvent).values(kind="opened")
"""
    assert [v.split(": ")[1] for v in violations(source)] == [
        "sets case.status",
        "sets case.coach_id",
        "sets existing.helpful",
        "sets case.summary",
        "sets anything.sla_check_at",
        "builds CaseEvent",
        "builds Case",
        "update(Case)",
        "insert(CaseEvent)",
    ]
    # Other models' columns of the same names are not cases.
    assert (
        violations("commitment.status = 'done'\nplan.coach_id = 2\ncall.acknowledged_at = 1") == []
    )
