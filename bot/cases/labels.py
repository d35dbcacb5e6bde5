"""Names shown to people for case categories, severities, statuses and language variants."""

from __future__ import annotations

from datetime import timedelta

from bot.core.i18n import N_, Translator
from storage.models import CaseCategory, CaseSeverity, CaseStatus

CATEGORY: dict[str, str] = {
    CaseCategory.CONFLICT: N_("Conflict between actors"),
    CaseCategory.BLOCKED_ACTION: N_("Blocked action"),
    CaseCategory.MISSING_MEANS: N_("Missing means"),
    CaseCategory.INSTITUTIONAL: N_("Blockage with an institution"),
    CaseCategory.QUESTION: N_("Question for a coach"),
    CaseCategory.IDEA: N_("Idea or proposal"),
    CaseCategory.EMERGENCY: N_("Emergency"),
}
SEVERITY: dict[str, str] = {
    CaseSeverity.EMERGENCY: N_("emergency"),
    CaseSeverity.HIGH: N_("high priority"),
    CaseSeverity.NORMAL: N_("normal priority"),
}
STATUS: dict[str, str] = {
    CaseStatus.OPEN: N_("open"),
    CaseStatus.ACKNOWLEDGED: N_("taken"),
    CaseStatus.IN_PROGRESS: N_("in progress"),
    CaseStatus.RESOLVED: N_("resolved"),
    CaseStatus.CLOSED: N_("closed"),
}
VARIANT = {
    "fr": N_("French"),
    "ary": N_("Darija in Arabic script"),
    "ary-Latn": N_("Darija in Latin letters"),
}
EVENT = {
    "opened": N_("opened"),
    "routed": N_("coaches alerted"),
    "message_in": N_("message from the actor"),
    "message_out": N_("answer from the coach"),
    "acknowledged": N_("taken"),
    "status": N_("status changed"),
    "handover": N_("handed over"),
    "realert": N_("reminder sent"),
    "escalated": N_("escalated to the coordinator"),
    "feedback": N_("actor's feedback"),
    "withdrawn": N_("message taken back: it was for the hotline"),
}
DEFAULT_SIGNATURE = N_("Coach of the hotline")


FILE_KIND = {
    "photo": N_("photo"),
    "voice": N_("voice note"),
    "document": N_("document"),
    "audio": N_("audio"),
    "video": N_("video"),
    "video_note": N_("video message"),
    "file": N_("file"),
}


def label(t: Translator, names: dict[str, str], key: str) -> str:
    return t.gettext(names[key]) if key in names else key


def duration(t: Translator, value: timedelta | None) -> str:
    if value is None:
        return "–"
    minutes = max(0, int(value.total_seconds() // 60))
    if minutes < 60:
        return t.gettext("{m} min", m=minutes)
    return t.gettext("{h} h {m} min", h=minutes // 60, m=f"{minutes % 60:02d}")
