"""What /mydata shows: every field and code under the name a person reads in their variant.

The file stays JSON (complete and machine-readable), but its keys and its coded values
(role, language, kinds, statuses) go through the catalogs like every other word of the line,
and rows it points at (territory, committee, plan, commitment) are named, not numbered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.cases import labels
from bot.core.clock import LOCAL_TZ
from bot.core.i18n import N_, Translator
from bot.core.telegram_html import to_plain
from bot.plans.reminders import STATUS_LABELS as COMMITMENT_STATUS
from bot.plans.service import local_due
from storage.models import DeliveryStatus, InboundKind, Role

EXPORTED_AT = N_("Exported on")
CONTROLLER = N_("Data controller")
SECTIONS = {
    "profile": N_("Your profile"),
    "committees": N_("Your committees"),
    "calls": N_("Your calls to the line"),
    "messages": N_("Your messages"),
    "replies": N_("What the line sent you"),
    "cases": N_("Your requests to a coach"),
    "commitments": N_("Your commitments in the plans"),
}

ROLE: dict[str, str] = {
    Role.ACTOR: N_("local actor"),
    Role.COMMITTEE_MEMBER: N_("committee member"),
    Role.COACH: N_("coach"),
    Role.ADMIN: N_("administrator"),
}
MESSAGE_KIND: dict[str, str] = {
    InboundKind.TEXT: N_("written message"),
    InboundKind.BUTTON: N_("button pressed"),
    InboundKind.ATTACHMENT: N_("file"),
    InboundKind.UNSUPPORTED: N_("message the line cannot read"),
}
REPLY_KIND: dict[str, str] = {
    "text": N_("written message"),
    "photo": N_("picture"),
    **labels.FILE_KIND,
}
DELIVERY: dict[str, str] = {
    DeliveryStatus.PENDING: N_("waiting to be sent"),
    DeliveryStatus.SENDING: N_("being sent"),
    DeliveryStatus.DELIVERED: N_("delivered"),
    DeliveryStatus.FAILED: N_("could not be sent"),
    DeliveryStatus.UNREACHABLE: N_("could not reach you"),
    DeliveryStatus.CANCELLED: N_("withdrawn before sending"),
}
YES, NO = N_("yes"), N_("no")


def _moment(t: Translator, value: Any) -> Any:
    if isinstance(value, datetime):
        # A naive date-time is a local wall time (a deadline as it was written).
        return t.datetime(value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ), "medium")
    if isinstance(value, date):
        return t.date(value, "long")
    return value


def _coded(names: dict[str, str]) -> Callable[[Translator, Any], Any]:
    return lambda t, value: labels.label(t, names, value)


def _yes_no(t: Translator, value: Any) -> str:
    return t.gettext(YES if value else NO)


def _as_is(_t: Translator, value: Any) -> Any:
    return value


def _plain(_t: Translator, value: Any) -> Any:
    return to_plain(value)  # what the person read, without the formatting tags


Show = Callable[[Translator, Any], Any]


@dataclass(frozen=True)
class Field:
    attribute: str
    label: str
    show: Show = _as_is
    read: Callable[[Any], Any] | None = None  # how to read it from the row, if not an attribute


# References: shown by the name of the row they point at (see Shown.value).
_REFERENCES = ("territory_id", "committee_id", "plan_id", "commitment_id")

PROFILE = (
    Field("id", N_("Number on the line")),
    Field("channel", N_("Messaging app")),
    Field("external_id", N_("Your id in the app")),
    Field("display_name", N_("Name")),
    Field("role", N_("Role"), _coded(ROLE)),
    Field("lang", N_("Language"), _coded(labels.VARIANT)),
    Field("territory_id", N_("Territory")),
    Field("reminders_stopped", N_("Reminders stopped"), _yes_no),
    Field("created_at", N_("First message"), _moment),
    Field("last_seen_at", N_("Last message"), _moment),
)
COMMITTEE = (
    Field("committee_id", N_("Committee")),
    Field("joined_at", N_("Member since"), _moment),
)
CALL = (
    Field("id", N_("Number")),
    Field("opened_at", N_("Started"), _moment),
    Field("last_activity_at", N_("Last message"), _moment),
    Field("acknowledged_at", N_("Framework acknowledged"), _moment),
)
MESSAGE = (
    Field("id", N_("Number")),
    Field("call_id", N_("Call number")),
    Field("received_at", N_("Received"), _moment),
    Field("kind", N_("Kind"), _coded(MESSAGE_KIND)),
    Field("text", N_("Text")),
    Field("button", N_("Button")),
    Field("attachment_kind", N_("File"), _coded(labels.FILE_KIND)),
)
REPLY = (
    Field("id", N_("Number")),
    Field("call_id", N_("Call number")),
    Field("created_at", N_("Written"), _moment),
    Field("kind", N_("Kind"), _coded(REPLY_KIND)),
    Field("text", N_("Text"), _plain),
    Field("filename", N_("File name")),
    Field("status", N_("Delivery"), _coded(DELIVERY)),
)
CASE = (
    Field("id", N_("Number")),
    Field("category", N_("Category"), _coded(labels.CATEGORY)),
    Field("severity", N_("Priority"), _coded(labels.SEVERITY)),
    Field("status", N_("Status"), _coded(labels.STATUS)),
    Field("summary", N_("Summary")),
    Field("plan_id", N_("Plan")),
    Field("commitment_id", N_("Commitment")),
    Field("opened_at", N_("Opened"), _moment),
    Field("resolved_at", N_("Resolved"), _moment),
    Field("closed_at", N_("Closed"), _moment),
)
COMMITMENT = (
    Field("id", N_("Number")),
    Field("plan_id", N_("Plan")),
    Field("what", N_("Action")),
    Field("where", N_("Place")),
    Field("due", N_("Deadline"), _moment, local_due),
    Field("status", N_("Status"), _coded({str(k): v for k, v in COMMITMENT_STATUS.items()})),
    Field("deliverables", N_("Deliverables")),
)
ROWS = (PROFILE, COMMITTEE, CALL, MESSAGE, REPLY, CASE, COMMITMENT)


@dataclass(frozen=True)
class Shown:
    """Turns stored rows into labelled rows in one variant."""

    t: Translator
    names: dict[str, dict[int, str]]  # reference attribute -> id -> name
    # Buttons are kept as their codes: shown by the label the person pressed.
    buttons: dict[str, str] = field(default_factory=dict)

    def value(self, attribute: str, value: Any) -> Any:
        if attribute in _REFERENCES and value is not None:
            return self.names.get(attribute, {}).get(value, value)
        if attribute == "button":
            return self.buttons.get(value, value)
        return _moment(self.t, value)

    def row(self, obj: Any, fields: tuple[Field, ...]) -> dict[str, Any]:
        shown: dict[str, Any] = {}
        for item in fields:
            value = item.read(obj) if item.read else getattr(obj, item.attribute)
            if value is None or value == "":
                continue  # an empty field says nothing; leaving it out reads better
            if item.show is _as_is:
                shown[self.t.gettext(item.label)] = self.value(item.attribute, value)
            else:
                shown[self.t.gettext(item.label)] = item.show(self.t, value)
        return shown
