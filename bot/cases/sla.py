"""Response-time targets per severity: when a case must be acknowledged, when it escalates.

Normal and high cases count working time (Africa/Casablanca office hours); an emergency
counts the clock, night and weekend included. Defaults can be overridden from the
environment: HOTLINE_SLA_EMERGENCY_MINUTES, HOTLINE_SLA_HIGH_MINUTES,
HOTLINE_SLA_NORMAL_MINUTES, HOTLINE_WORKING_HOURS ("09:00-17:00", Monday to Friday).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

from bot.cases.worktime import WorkingHours
from storage.models import CaseSeverity


def _default_targets() -> dict[str, timedelta]:
    return {
        # Everyone is alerted at once; this is only the wait before alerting again.
        CaseSeverity.EMERGENCY: timedelta(minutes=15),
        CaseSeverity.HIGH: timedelta(hours=2),  # working hours
        CaseSeverity.NORMAL: timedelta(hours=8),  # one working day
    }


@dataclass(frozen=True)
class SlaPolicy:
    hours: WorkingHours = field(default_factory=WorkingHours)
    targets: dict[str, timedelta] = field(default_factory=_default_targets)

    def target(self, severity: str) -> timedelta:
        return self.targets.get(severity, self.targets[CaseSeverity.NORMAL])

    def _after(self, severity: str, start: datetime) -> datetime:
        if severity == CaseSeverity.EMERGENCY:
            return start.astimezone(UTC) + self.target(severity)
        return self.hours.add(start, self.target(severity))

    def ack_due(self, severity: str, opened_at: datetime) -> datetime:
        """The coach must have taken the case by then, or is alerted again."""
        return self._after(severity, opened_at)

    def escalate_at(self, severity: str, ack_due: datetime) -> datetime:
        """Still not taken one more period later: the coordinator is alerted."""
        return self._after(severity, ack_due)


def policy_from_env(env: Mapping[str, str] | None = None) -> SlaPolicy:
    env = os.environ if env is None else env
    targets = _default_targets()
    for severity in CaseSeverity:
        minutes = env.get(f"HOTLINE_SLA_{severity.upper()}_MINUTES")
        if minutes:
            targets[severity] = timedelta(minutes=int(minutes))
    hours = env.get("HOTLINE_WORKING_HOURS")
    return SlaPolicy(hours=WorkingHours.parse(hours) if hours else WorkingHours(), targets=targets)


@cache
def policy() -> SlaPolicy:
    return policy_from_env()
