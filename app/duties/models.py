from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import db
from app.core.i18n import N_
from app.core.timeutil import now
from app.core.types import UTCDateTime

KIND_LABELS = {"monthly_filing": N_("月度项目备案与统计"), "credit_data": N_("季度信用信息采集"),   # shown as _(label)
               # reports routed as duties (app/reports/operations.py)
               "monthly_statistics": N_("月度成果统计表（报人民银行）"),
               "jiangjin_monthly": N_("增信贷月度收放情况（报财政局、人民银行、银保监）"),
               "quarterly_bulletin": N_("季度通报（金管办成员单位联席会）")}


class Duty(db.Model):
    """A recurring duty of one organisation for one period (monthly filing, quarterly data upload).

    ``key`` is unique -- kind, period, scheme and organisation -- so a job that runs twice, or is
    redelivered after its worker died, never creates a second duty for the same period.
    """
    __tablename__ = "duties"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(30))               # monthly_filing | credit_data
    period: Mapped[str] = mapped_column(String(10))             # 2026-04 | 2026Q1
    scheme_id: Mapped[int | None] = mapped_column(ForeignKey("schemes.id"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stats_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="open")   # open | done
    late: Mapped[bool] = mapped_column(default=False)
    result_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    scheme = relationship("Scheme")
    organisation = relationship("Organisation")
    completed_by = relationship("User")

    __table_args__ = (Index("ix_duties_org_period", "org_id", "kind", "period"),)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def result(self) -> dict:
        return json.loads(self.result_json or "{}")

    def can_view(self, user) -> bool:
        if user.organisation_id == self.org_id:
            return True
        return user.organisation.kind in ("admin", "financial_office", "finance_bureau", "pboc")
