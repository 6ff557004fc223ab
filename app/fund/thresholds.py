"""Thresholds that pause a whole scheme or suspend one bank, and the fund-size review flag.

Decisions (where the policies are silent):

* **Pause (黔江 art.: 基金代偿总额达基金 50% 暂停新业务).**  Measured as *net payouts* —
  advances + payouts − recovery returns — against the policy's ``fund_size`` parameter (not the
  current balance: injections do not move the threshold; raising ``fund_size`` does).  It is
  checked after every advance, payout or recovery return posted to the fund.  Once the financial
  office resumes the scheme (:func:`resume_scheme`, with a reason) the rule fires again only on
  *further* payouts beyond the level at which it resumed.
* **Bank suspension (黔江 3 % inclusive; 江津 more than 10 %).**  NPL ratio = outstanding principal
  of the bank's non-performing (次级/可疑/损失) scheme loans ÷ outstanding principal of all its
  scheme loans (eligible loans, status active or overdue).  Checked when a loan is classified;
  it suspends only when that loan is non-performing (a loan turning normal never suspends).  The
  suspension lasts until the financial office approves the bank's rectification report
  (bpmn/rectification.bpmn); the ratio falling does not lift it by itself.
* **Current balances.**  The loans' ``outstanding_principal``, ``classification`` and ``status``
  are their current position: the values of the loan's latest month in the loan book
  (app/loanbook), or, for a loan never reported, the approved amount (and the classification an
  overdue report gave it).  After a book is stored, :func:`after_balances_changed` re-checks the
  fund-size review and the NPL rule of each bank and scheme it touched: a repayment of a performing
  loan raises the ratio as surely as a reclassification does, so the rule runs whenever the bank
  still has a live non-performing loan (the trigger is a reclassified loan, else its largest NPL).
* **Fund-size review (黔江 10 ×).**  Loans total = outstanding principal of eligible scheme loans
  (filing, active, overdue) against ``loans_to_fund_review_multiple`` × ``fund_size``.  The flag
  is stored on :class:`FundAccount` and shown on the fund page until the financial office
  acknowledges it; it is raised again only if the limit changes (``fund_size`` or the multiple).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from app.core import audit
from app.core.db import db
from app.core.i18n import N_, _, stored
from app.core.money import FEN, fmt_yuan
from app.core.timeutil import now
from app.fund import ledger, rectification
from app.fund.models import FundAccount, Suspension
from app.loans.models import NON_PERFORMING, Loan
from app.notifications.messages import named, pack
from app.notifications.operations import notify_org
from app.policies.models import Scheme
from app.policies.params import SchemeParams

SCHEME_SUBJECT = "scheme"
SUSPENSION_SUBJECT = "bank_suspension"
LIVE_STATUSES = ("active", "overdue")
VOLUME_STATUSES = ("filing", "active", "overdue")


def _pct(d: Decimal) -> str:
    return f"{(d * 100).quantize(Decimal('0.01'))}%"


# ---------------------------------------------------------------------------- scheme pause

@dataclass
class Utilisation:
    fund_size: Decimal | None
    net_payouts: Decimal
    ratio: Decimal | None          # net payouts / fund size
    pause_ratio: Decimal | None    # the policy threshold (None: no pause rule)
    pause_amount: Decimal | None   # fund size × threshold

    @property
    def reached(self) -> bool:
        return self.pause_amount is not None and self.net_payouts >= self.pause_amount


def utilisation(scheme: Scheme) -> Utilisation:
    p = scheme.params
    size, ratio_p = p.fund_size, p.pause_at_payout_ratio
    paid = ledger.net_payouts(scheme.id)
    ratio = (paid / size).quantize(Decimal("0.0001")) if size else None
    amount = (size * ratio_p).quantize(FEN) if size and ratio_p is not None else None
    return Utilisation(size, paid, ratio, ratio_p, amount)


def after_payout(scheme_id: int) -> Utilisation:
    """Pause the scheme for new loans once net payouts reach the policy's share of the fund."""
    scheme = db.session.get(Scheme, scheme_id)
    u = utilisation(scheme)
    check_loan_volume(scheme_id)
    if not u.reached or scheme.paused:
        return u
    acct = ledger.account(scheme_id)
    if acct.resumed_at_payouts is not None and u.net_payouts <= Decimal(acct.resumed_at_payouts):
        return u
    scheme.paused = True
    scheme.paused_reason = stored(
        N_("基金累计代偿（净额）{paid} 元，已达基金规模 {size} 元的 {ratio}（{amount} 元），暂停受理新增贷款，待金融办决定恢复"),
        paid=fmt_yuan(u.net_payouts), size=fmt_yuan(u.fund_size), ratio=_pct(u.pause_ratio),
        amount=fmt_yuan(u.pause_amount))
    audit.record(SCHEME_SUBJECT, scheme.id, "scheme_paused", None, scheme.paused_reason, details={
        "net_payouts": str(u.net_payouts), "fund_size": str(u.fund_size), "threshold": str(u.pause_ratio)},
        visible_to_enterprise=False)
    db.session.flush()
    return u


def resume_scheme(scheme_id: int, user, reason: str) -> Scheme:
    """The financial office resumes a paused scheme, with a reason."""
    if not user.is_kind("financial_office"):
        raise ledger.FundError(_("只有金融办可以恢复风险补偿业务"))
    reason = (reason or "").strip()
    if not reason:
        raise ledger.FundError(_("请填写恢复业务的理由"), "reason")
    scheme = db.session.scalar(select(Scheme).where(Scheme.id == scheme_id).with_for_update())
    if scheme is None or scheme.member(user.organisation_id, "financial_office") is None:
        raise ledger.FundError(_("本单位不是该政策的金融办"))
    if not scheme.paused:
        raise ledger.FundError(_("该政策业务未处于暂停状态"))
    acct = ledger.account(scheme_id, lock=True)
    acct.resumed_at_payouts = ledger.net_payouts(scheme_id)
    previous = scheme.paused_reason
    scheme.paused = False
    scheme.paused_reason = None
    audit.record(SCHEME_SUBJECT, scheme.id, "scheme_resumed", user, reason,
                 details={"paused_reason": previous, "net_payouts": str(acct.resumed_at_payouts)},
                 visible_to_enterprise=False)
    db.session.flush()
    return scheme


# ---------------------------------------------------------------------------- bank NPL

@dataclass
class BankNpl:
    bank_id: int
    npl_principal: Decimal
    total_principal: Decimal

    @property
    def ratio(self) -> Decimal:
        if not self.total_principal:
            return Decimal("0")
        return (self.npl_principal / self.total_principal).quantize(Decimal("0.0001"))

    def reaches(self, threshold: Decimal, inclusive: bool) -> bool:
        if not self.total_principal:
            return False
        lhs, rhs = self.npl_principal, threshold * self.total_principal
        return lhs >= rhs if inclusive else lhs > rhs


def _npl_filter(scheme_id: int, bank_id: int) -> tuple:
    return (Loan.scheme_id == scheme_id, Loan.bank_id == bank_id, Loan.eligible.is_(True),
            Loan.status.in_(LIVE_STATUSES))


def npl_loans(scheme_id: int, bank_id: int) -> list[Loan]:
    """The loans behind :func:`bank_npl` (the fund page's trace)."""
    return list(db.session.scalars(select(Loan).where(*_npl_filter(scheme_id, bank_id)).order_by(Loan.no)))


def bank_npl(scheme_id: int, bank_id: int) -> BankNpl:
    base = select(func.coalesce(func.sum(Loan.outstanding_principal), 0)).where(*_npl_filter(scheme_id, bank_id))
    total = Decimal(str(db.session.scalar(base))).quantize(FEN)
    npl = Decimal(str(db.session.scalar(base.where(Loan.classification.in_(NON_PERFORMING))))).quantize(FEN)
    return BankNpl(bank_id, npl, total)


def npl_rule(params: SchemeParams) -> tuple[Decimal, bool] | None:
    rule = params.suspend_bank_npl
    if rule is None:
        return None
    return rule.threshold, rule.inclusive


def after_loan_classified(loan: Loan) -> Suspension | None:
    """Suspend the loan's bank when its NPL ratio on scheme loans reaches the policy threshold."""
    scheme = db.session.get(Scheme, loan.scheme_id)
    check_loan_volume(scheme.id)
    rule = npl_rule(scheme.params)
    if rule is None or loan.classification not in NON_PERFORMING:
        return None
    threshold, inclusive = rule
    member = scheme.member(loan.bank_id, "bank")
    if member is None or member.suspended:
        return None
    n = bank_npl(scheme.id, loan.bank_id)
    if not n.reaches(threshold, inclusive):
        return None
    stop = scheme.params.suspend_bank_npl.action == "stop"
    figures = {"ratio": _pct(n.ratio), "npl": fmt_yuan(n.npl_principal), "total": fmt_yuan(n.total_principal),
               "limit": _pct(threshold)}
    if stop:   # 江津 art.10: 区政府停止与该银行的合作 — ended, no rectification brings it back
        msgid = (N_("不良贷款率 {ratio}（不良本金 {npl} 元 / 贷款余额 {total} 元）达到 {limit}，区政府停止与该银行的合作，"
                    "不再受理该行新的增信贷") if inclusive else
                 N_("不良贷款率 {ratio}（不良本金 {npl} 元 / 贷款余额 {total} 元）超过 {limit}，区政府停止与该银行的合作，"
                    "不再受理该行新的增信贷"))
    else:
        msgid = (N_("不良贷款率 {ratio}（不良本金 {npl} 元 / 贷款余额 {total} 元）达到 {limit}，暂停开展该项业务，"
                    "待整改经金融办认可后恢复") if inclusive else
                 N_("不良贷款率 {ratio}（不良本金 {npl} 元 / 贷款余额 {total} 元）超过 {limit}，暂停开展该项业务，"
                    "待整改经金融办认可后恢复"))
    reason = stored(msgid, **figures)
    member.suspended = True
    member.suspended_reason = reason
    if stop:
        member.ended_at = now()
    s = Suspension(scheme_id=scheme.id, bank_id=loan.bank_id, reason=reason, npl_principal=n.npl_principal,
                   total_principal=n.total_principal, threshold=str(threshold), inclusive=inclusive,
                   trigger_loan_id=loan.id, suspended_at=now(), status="ended" if stop else "suspended")
    db.session.add(s)
    db.session.flush()
    audit.record(SUSPENSION_SUBJECT, s.id, "bank_cooperation_ended" if stop else "bank_suspended", None, reason,
                 details={"bank": member.organisation.name, "loan_no": loan.no, "ratio": str(n.ratio)},
                 visible_to_enterprise=False)
    # the bank learns it at once (inbox and e-mail), before it fills another approval form
    notify_org(loan.bank_id, f"suspension:{s.id}", "suspension",
               N_("本行已被停止合作：{scheme}") if stop else N_("本行已被暂停开展业务：{scheme}"),
               N_("不良贷款率 {ratio} 触及阈值 {threshold}，区政府停止与本行的合作，不再受理新的增信贷") if stop else
               N_("不良贷款率 {ratio} 触及阈值 {threshold}，暂停开展该项业务，待整改经金融办认可后恢复"),
               f"/fund/suspensions/{s.id}",
               pack({"scheme": named(scheme), "ratio": _pct(n.ratio), "threshold": _pct(threshold)}))
    if not stop:
        rectification.start(s)
    return s


def after_balances_changed(scheme_id: int, bank_id: int, reclassified: list[Loan]) -> Suspension | None:
    """The loan book changed balances or classes of this bank's scheme loans: re-run both rules."""
    check_loan_volume(scheme_id)
    trigger = next((l for l in reclassified if l.classification in NON_PERFORMING and l.eligible
                    and l.status in LIVE_STATUSES), None)
    if trigger is None:
        trigger = db.session.scalar(select(Loan).where(
            Loan.scheme_id == scheme_id, Loan.bank_id == bank_id, Loan.eligible.is_(True),
            Loan.status.in_(LIVE_STATUSES), Loan.classification.in_(NON_PERFORMING))
            .order_by(Loan.outstanding_principal.desc(), Loan.id).limit(1))
    if trigger is None:
        return None
    return after_loan_classified(trigger)


# ---------------------------------------------------------------------------- fund-size review

@dataclass
class LoanVolume:
    loans_total: Decimal
    multiple: Decimal | None
    limit: Decimal | None

    @property
    def reached(self) -> bool:
        return self.limit is not None and self.loans_total >= self.limit

    @property
    def multiple_label(self) -> str:
        return f"{self.multiple.normalize():f}" if self.multiple is not None else ""


def _volume_filter(scheme_id: int) -> tuple:
    return Loan.scheme_id == scheme_id, Loan.eligible.is_(True), Loan.status.in_(VOLUME_STATUSES)


def volume_loans(scheme_id: int) -> list[Loan]:
    """The loans behind :func:`loan_volume` (the fund page's trace)."""
    return list(db.session.scalars(select(Loan).where(*_volume_filter(scheme_id)).order_by(Loan.bank_id, Loan.no)))


def loan_volume(scheme: Scheme) -> LoanVolume:
    p = scheme.params
    size, mult = p.fund_size, p.loans_to_fund_review_multiple
    total = Decimal(str(db.session.scalar(select(func.coalesce(func.sum(Loan.outstanding_principal), 0)).where(
        *_volume_filter(scheme.id))))).quantize(FEN)
    return LoanVolume(total, mult, (size * mult).quantize(FEN) if size and mult else None)


def check_loan_volume(scheme_id: int) -> LoanVolume:
    """Raise the fund-size review flag when scheme loans reach the policy's multiple of the fund."""
    scheme = db.session.get(Scheme, scheme_id)
    v = loan_volume(scheme)
    if v.reached:
        acct = ledger.account(scheme_id)
        if not acct.review_flag and (acct.review_limit is None or Decimal(acct.review_limit) != v.limit):
            acct.review_flag = True
            acct.review_limit = v.limit
            acct.review_flagged_at = now()
            acct.review_acknowledged_at = None
            acct.review_acknowledged_by_id = None
            acct.review_reason = stored(
                N_("合作贷款余额 {total} 元已达基金规模的 {multiple} 倍（{limit} 元），请研究调整基金规模"),
                total=fmt_yuan(v.loans_total), multiple=f"{v.multiple.normalize():f}", limit=fmt_yuan(v.limit))
            audit.record(SCHEME_SUBJECT, scheme_id, "fund_review_flagged", None, acct.review_reason,
                         visible_to_enterprise=False)
            db.session.flush()
    return v


def acknowledge_review(scheme_id: int, user, note: str) -> FundAccount:
    if not user.is_kind("financial_office", "finance_bureau"):
        raise ledger.FundError(_("只有金融办或财政局可以处理基金规模评估提示"))
    note = (note or "").strip()
    if not note:
        raise ledger.FundError(_("请填写处理意见"), "note")
    acct = ledger.account(scheme_id, lock=True)
    if not acct.review_flag:
        raise ledger.FundError(_("当前没有待处理的基金规模评估提示"))
    acct.review_flag = False
    acct.review_acknowledged_at = now()
    acct.review_acknowledged_by_id = user.id
    acct.review_note = note
    audit.record(SCHEME_SUBJECT, scheme_id, "fund_review_acknowledged", user, note, visible_to_enterprise=False)
    db.session.flush()
    return acct
