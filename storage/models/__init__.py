"""All tables, imported here so that metadata and Alembic see every one of them."""

from storage.models.actors import Actor, Role
from storage.models.audit import AuditEntry, AuditTrailIsAppendOnly
from storage.models.base import Base, UtcDateTime
from storage.models.calls import Call, FrameworkText
from storage.models.cases import Case, CaseCategory, CaseEvent, CaseSeverity, CaseStatus
from storage.models.flows import FlowSession
from storage.models.invitations import Invitation, InvitationKind
from storage.models.messages import (
    DeliveryStatus,
    InboundKind,
    InboundMessage,
    OutboxMessage,
    Priority,
)
from storage.models.plans import ActionPlan, Commitment, CommitmentEvent, CommitmentStatus
from storage.models.review import ReviewItem, ReviewReason
from storage.models.territories import (
    Committee,
    CommitteeMember,
    Territory,
    TerritoryCoach,
    TerritoryKind,
)
from storage.models.web import CannedReply, CaseNote, WebSession, WebSignIn

# Registers the hooks that keep next-due times beside their inputs (after every table).
from storage.models import schedule  # noqa: F401  isort: skip

__all__ = [
    "ActionPlan",
    "Actor",
    "AuditEntry",
    "AuditTrailIsAppendOnly",
    "Base",
    "Call",
    "CannedReply",
    "Case",
    "CaseCategory",
    "CaseEvent",
    "CaseNote",
    "CaseSeverity",
    "CaseStatus",
    "Commitment",
    "CommitmentEvent",
    "CommitmentStatus",
    "Committee",
    "CommitteeMember",
    "DeliveryStatus",
    "FlowSession",
    "FrameworkText",
    "InboundKind",
    "InboundMessage",
    "Invitation",
    "InvitationKind",
    "OutboxMessage",
    "Priority",
    "ReviewItem",
    "ReviewReason",
    "Role",
    "Territory",
    "TerritoryCoach",
    "TerritoryKind",
    "UtcDateTime",
    "WebSession",
    "WebSignIn",
]
