"""Posting to the fund ledger.

``post`` is the one way money enters or leaves a scheme's fund.  It

* takes the per-fund lock (``SELECT … FOR UPDATE`` on the scheme's :class:`FundAccount`), so two
  postings never both see the old balance and drive it below zero;
* is idempotent on ``key``: posting the same key again returns the first entry and writes nothing
  (under the lock the second poster sees the first one's committed row; the unique constraint,
  inserted inside a savepoint, backs this up);
* refuses an outflow beyond the balance with :class:`InsufficientFunds` and writes nothing.

It flushes; the caller commits once (a failed step rolls the entry back with everything else).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.db import db
from app.core.i18n import _
from app.core.money import FEN, ROUNDING_LABELS, MoneyError, fmt_yuan, round_fen, yuan
from app.core.timeutil import now, today
from app.fund import thresholds
# the reads live in app.fund.ledger (thresholds reads the ledger too); this module is the fund's
# interface, so they are re-exported here
from app.fund.ledger import FundError as FundError, account as account, balance as balance, \
    count_entries as count_entries, entries as entries, find as find, net_payouts as net_payouts, totals as totals
from app.fund.models import INFLOW, INFLOW_FORM_KINDS, KINDS, OUTFLOW, FundEntry, can_post_inflow

OUTFLOW_KINDS = tuple(k for k, d in KINDS.items() if d == OUTFLOW)   # advance, payout
PAYOUT_KINDS = ("advance", "payout")


class InsufficientFunds(FundError):
    def __init__(self, balance: Decimal, amount: Decimal, kind: str = ""):
        self.balance = balance
        self.amount = amount
        super().__init__(_("风险补偿基金余额不足：当前余额 {balance} 元，本次支出 {amount} 元，差额 {gap} 元。").format(
            balance=fmt_yuan(balance), amount=fmt_yuan(amount), gap=fmt_yuan(amount - balance)), "amount")


class KeyConflict(FundError):
    """The key was already used for a different posting (a programming error, not a retry)."""


def _amount(value) -> Decimal:
    if isinstance(value, float):
        raise FundError(_("金额不能是浮点数（请使用 Decimal，单位元，精确到分）"), "amount")
    if isinstance(value, bool) or value is None:
        raise FundError(_("请填写金额"), "amount")
    try:
        amt = yuan(value)
    except MoneyError:
        raise FundError(_("金额格式不正确：单位为元，最多两位小数（分）"), "amount") from None
    if amt <= 0:
        raise FundError(_("金额必须大于零（方向由业务类型决定）"), "amount")
    if amt >= Decimal("10000000000000000"):
        raise FundError(_("金额过大"), "amount")
    return amt


def direction_of(kind: str, direction: str | None = None) -> str:
    if kind not in KINDS:
        raise FundError(_("未知的资金业务类型：{kind}").format(kind=kind), "kind")
    fixed = KINDS[kind]
    if fixed is None:
        if direction not in (INFLOW, OUTFLOW):
            raise FundError(_("调整须注明方向：调增（in）或调减（out）"), "direction")
        return direction
    if direction is not None and direction != fixed:
        raise FundError(_("业务类型 {kind} 的方向固定为 {fixed}").format(kind=kind, fixed=fixed), "direction")
    return fixed


def _same(e: FundEntry, scheme_id, kind, amount, direction) -> bool:
    return (e.scheme_id == scheme_id and e.kind == kind and Decimal(e.amount).quantize(FEN) == amount
            and e.direction == direction)


def post(scheme_id: int, kind: str, amount: Decimal, *, key: str, actor=None, memo: str = "",
         ref_type: str | None = None, ref_id: int | None = None, direction: str | None = None,
         booked_on: date | None = None) -> FundEntry:
    """Post one entry; see the module docstring.

    ``direction`` is needed only for ``kind="adjustment"`` ("in" or "out"; an adjustment also
    needs a memo saying why).  ``booked_on`` defaults to today in Shanghai.
    Posting an advance or payout (or a recovery return) re-checks the scheme-pause threshold.
    """
    amt = _amount(amount)
    d = direction_of(kind, direction)
    key = (key or "").strip()
    if not key or len(key) > 200:
        raise FundError(_("缺少幂等键（key），或超过 200 个字符"), "key")
    memo = (memo or "").strip()
    if kind == "adjustment" and not memo:
        raise FundError(_("调整必须说明原因"), "memo")

    account(scheme_id, lock=True)
    existing = find(key)
    if existing is not None:
        if not _same(existing, scheme_id, kind, amt, d):
            raise KeyConflict(_("幂等键 {key} 已用于另一笔记账（{kind} {amount} 元）").format(key=key, kind=existing.kind, amount=fmt_yuan(existing.amount)))
        return existing

    bal = balance(scheme_id)
    if d == OUTFLOW and amt > bal:
        raise InsufficientFunds(bal, amt, kind)
    entry = FundEntry(scheme_id=scheme_id, kind=kind, direction=d, amount=amt,
                      balance_after=(bal + amt if d == INFLOW else bal - amt), key=key, memo=memo,
                      ref_type=ref_type, ref_id=ref_id, booked_on=booked_on or today(),
                      actor_id=actor.id if actor else None,
                      actor_org_id=actor.organisation_id if actor else None, posted_at=now())
    try:
        with db.session.begin_nested():
            db.session.add(entry)
    except IntegrityError:
        existing = find(key)
        if existing is None:
            raise
        if not _same(existing, scheme_id, kind, amt, d):
            raise KeyConflict(_("幂等键 {key} 已用于另一笔记账").format(key=key)) from None
        return existing

    if kind in PAYOUT_KINDS or kind == "recovery_return":
        thresholds.after_payout(scheme_id)
    return entry


# ---------------------------------------------------------------------------- inflows (finance bureau)

RATIO_OF = {   # inflow kind → the policy ratio that computes it from a base amount
    "tax_allocation": lambda p: p.yearly_tax_allocation_ratio,
    "bank_interest_contribution": lambda p: p.bank_interest_contribution_ratio,
}


class Inflow:
    """What the finance bureau enters: an amount, or a base the policy's ratio applies to."""

    def __init__(self, kind: str, voucher_no: str, booked_on: date, amount: Decimal | None = None,
                 base_amount: Decimal | None = None, bank_id: int | None = None, period: str = "",
                 memo: str = ""):
        self.kind, self.voucher_no, self.booked_on = kind, (voucher_no or "").strip(), booked_on
        self.amount, self.base_amount, self.bank_id = amount, base_amount, bank_id
        self.period, self.memo = (period or "").strip(), (memo or "").strip()


def computed_inflow(params, kind: str, base: Decimal) -> tuple[Decimal, str]:
    """Amount = base × the policy's ratio, rounded to the fen by the policy's rule; with the working."""
    ratio = RATIO_OF[kind](params)
    rule = params.rounding
    amt = round_fen(base * ratio, rule)
    return amt, f"{fmt_yuan(base)} × {ratio.normalize():f} = {fmt_yuan(amt)} 元（{ROUNDING_LABELS.get(rule, rule)}）"


def record_inflow(scheme, user, data: Inflow) -> tuple[FundEntry, bool]:
    """Post an inflow entered by the finance bureau.  Returns (entry, created).

    The key is the scheme, kind and voucher number: submitting the same voucher twice posts once.
    """
    if not can_post_inflow(scheme, user):
        raise FundError(_("只有本政策的财政局可以登记基金入账"))
    if data.kind not in INFLOW_FORM_KINDS:
        raise FundError(_("请选择资金类型"), "kind")
    if not data.voucher_no:
        raise FundError(_("请填写凭证号"), "voucher_no")
    if data.booked_on is None:
        raise FundError(_("请填写到账日期"), "booked_on")
    if data.booked_on > today():
        raise FundError(_("到账日期不能晚于今天"), "booked_on")
    params = scheme.params
    working = ""
    amount = data.amount
    if data.base_amount is not None:
        if data.kind not in RATIO_OF or not RATIO_OF[data.kind](params):
            raise FundError(_("该资金类型在本政策下没有计提比例，请直接填写入账金额"), "base_amount")
        computed, working = computed_inflow(params, data.kind, _amount(data.base_amount))
        if amount is not None and _amount(amount) != computed:
            raise FundError(_("入账金额 {amount} 元与按比例计算的结果不一致：{working}").format(amount=fmt_yuan(amount), working=working), "amount")
        amount = computed
    if amount is None:
        raise FundError(_("请填写入账金额或计提基数"), "amount")
    bank_name = ""
    if data.kind == "bank_interest_contribution":
        member = scheme.member(data.bank_id, "bank") if data.bank_id else None
        if member is None:
            raise FundError(_("请选择缴存利息收入的合作银行"), "bank_id")
        bank_name = member.organisation.name
    if data.kind == "tax_allocation" and not data.period:
        raise FundError(_("请填写税收收入所属年度"), "period")
    key = f"inflow:{scheme.code}:{data.kind}:{data.voucher_no}"
    existing = find(key)
    memo = "；".join(x for x in [bank_name, data.period and f"期间 {data.period}", working,
                                 f"凭证号 {data.voucher_no}", data.memo] if x)
    if existing is not None:
        if _same(existing, scheme.id, data.kind, _amount(amount), INFLOW):
            return existing, False
        raise FundError(_("凭证号 {voucher} 已登记过一笔{kind} {amount} 元，请核对凭证号").format(
            voucher=data.voucher_no, kind=existing.kind_label, amount=fmt_yuan(existing.amount)), "voucher_no")
    entry = post(scheme.id, data.kind, amount, key=key, actor=user, memo=memo, booked_on=data.booked_on,
                 ref_type="bank" if data.bank_id and data.kind == "bank_interest_contribution" else None,
                 ref_id=data.bank_id if data.kind == "bank_interest_contribution" else None)
    audit.record("scheme", scheme.id, "fund_inflow", user, memo, details={
        "kind": data.kind, "amount": str(entry.amount), "entry_id": entry.id}, visible_to_enterprise=False)
    db.session.flush()
    return entry, True
