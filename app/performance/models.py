"""A performance evaluation of one scheme for one period, and its rows (one per bank, per department,
and the scheme's total).

Revisions: an evaluation is a ``draft`` until the finance bureau confirms it; a recomputation
replaces a draft's rows.  Once ``confirmed`` an evaluation and its rows never change (refused at
flush, like the fund ledger); recomputing the period then opens a new draft with the next
``revision``, and the confirmed revision with the highest number is the one in effect.
"""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.core.db import db
from app.core.i18n import N_
from app.core.timeutil import now
from app.core.types import UTCDateTime

STATUS_LABELS = {"draft": N_("草稿"), "confirmed": N_("已确认")}      # shown as {{ _(label) }}
ROW_KINDS = ("bank", "department", "scheme")


class Evaluation(db.Model):
    __tablename__ = "performance_evaluations"
    __table_args__ = (UniqueConstraint("scheme_id", "period", "revision", name="uq_performance_evaluations_revision"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))                     # YYYY
    revision: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20), default="draft")   # draft | confirmed
    params_version: Mapped[int]
    # the targets and definitions it was computed with (shown with it; the scheme may change later)
    basis_json: Mapped[str] = mapped_column(Text, default="{}")
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    computed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirm_note: Mapped[str | None] = mapped_column(Text)

    scheme = relationship("Scheme")
    computed_by = relationship("User", foreign_keys=[computed_by_id])
    confirmed_by = relationship("User", foreign_keys=[confirmed_by_id])
    rows: Mapped[list[EvaluationRow]] = relationship(back_populates="evaluation", order_by="EvaluationRow.id",
                                                     cascade="all, delete-orphan")

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def basis(self) -> dict:
        return json.loads(self.basis_json or "{}")


class EvaluationRow(db.Model):
    """One evaluated unit: ``kind`` bank, department or scheme (the total; ``org_id`` empty)."""
    __tablename__ = "performance_rows"
    __table_args__ = (Index("ix_performance_rows_org", "org_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("performance_evaluations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    # actuals, targets and results as JSON text (money and ratios as strings)
    figures_json: Mapped[str] = mapped_column(Text, default="{}")
    # 江津 第七条: what the confirmation deposits into the pool for this bank (None: not computed)
    deposit: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    fund_entry_id: Mapped[int | None] = mapped_column(ForeignKey("fund_entries.id"))

    evaluation: Mapped[Evaluation] = relationship(back_populates="rows")
    organisation = relationship("Organisation")

    @property
    def figures(self) -> dict:
        return json.loads(self.figures_json or "{}")


class EvaluationIsConfirmed(RuntimeError):
    pass


def _was_confirmed(ev: Evaluation) -> bool:
    hist = inspect(ev).attrs.status.history
    before = hist.deleted[0] if hist.deleted else ev.status
    return before == "confirmed"


@event.listens_for(Session, "before_flush")
def _refuse_changes_after_confirmation(session, flush_context, instances):
    for obj in list(session.dirty) + list(session.deleted):
        if not isinstance(obj, (Evaluation, EvaluationRow)):     # before is_modified: every flush runs this
            continue
        if not (obj in session.deleted or session.is_modified(obj)):
            continue
        if isinstance(obj, Evaluation) and _was_confirmed(obj):
            raise EvaluationIsConfirmed(f"performance evaluation {obj.id} is confirmed: compute a new revision")
        if isinstance(obj, EvaluationRow) and obj.evaluation is not None and _was_confirmed(obj.evaluation):
            raise EvaluationIsConfirmed(f"performance row {obj.id} belongs to a confirmed evaluation")
    for obj in session.new:
        if isinstance(obj, EvaluationRow) and obj.evaluation is not None and inspect(obj.evaluation).persistent \
                and _was_confirmed(obj.evaluation):
            raise EvaluationIsConfirmed("a confirmed performance evaluation takes no new rows")
