"""Response-time targets per severity: when a case must be acknowledged, when it escalates.

Normal and high cases count working time (Africa/Casablanca office hours); an emergency
counts the clock, night and weekend included. The figures come from the settings
(`sla_*`, `working_hours`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.cases.worktime import WorkingHours
from bot.core.config import Settings
from storage.models import CaseSeverity


def _default_targets() -> dict[str, timedelta]:
    defaults = Settings()
    return {
        CaseSeverity.EMERGENCY: defaults.sla_emergency,
        CaseSeverity.HIGH: defaults.sla_high,
        CaseSeverity.NORMAL: defaults.sla_normal,
    }


@dataclass(frozen=True)
class SlaPolicy:
    hours: WorkingHours = field(default_factory=WorkingHours)
    targets: dict[str, timedelta] = field(default_factory=_default_targets)

    @classmethod
    def from_settings(cls, settings: Settings) -> SlaPolicy:
        start, end = settings.working_hours
        targets: dict[str, timedelta] = {
            CaseSeverity.EMERGENCY: settings.sla_emergency,
            CaseSeverity.HIGH: settings.sla_high,
            CaseSeverity.NORMAL: settings.sla_normal,
        }
        return cls(hours=WorkingHours(start=start, end=end), targets=targets)

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
