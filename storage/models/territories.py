"""Territories (a tree from douar to region) and their local committees."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime


class TerritoryKind(StrEnum):
    DOUAR = "douar"
    NEIGHBOURHOOD = "quartier"
    COMMUNE = "commune"
    PROVINCE = "province"
    REGION = "region"


class Territory(Base):
    __tablename__ = "territories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id"), default=None)


class TerritoryCoach(Base):
    """The coaches who answer for a territory when no plan names one."""

    __tablename__ = "territory_coaches"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id"), primary_key=True)
    coach_id: Mapped[int] = mapped_column(ForeignKey("actors.id"), primary_key=True)


class Committee(Base):
    """A comité local de concertation."""

    __tablename__ = "committees"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CommitteeMember(Base):
    __tablename__ = "committee_members"

    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id"), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime())
