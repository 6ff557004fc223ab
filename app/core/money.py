"""Money is Decimal yuan with two places (fen).  Never a float.

Every rounding to the fen goes through :func:`round_fen` with a named rule; the rule a policy
uses is part of the policy's data and is shown on every computation.
"""
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

from app.core.i18n import N_

FEN = Decimal("0.01")
ROUNDING_RULES = {
    "half_up": ROUND_HALF_UP,      # 四舍五入
    "down": ROUND_DOWN,            # 舍去（不超额补偿）
    "half_even": ROUND_HALF_EVEN,  # 银行家舍入
}
ROUNDING_LABELS = {   # stored in computations: translated where shown, {{ _(label) }}
    "half_up": N_("四舍五入到分"),
    "down": N_("向下舍去到分"),
    "half_even": N_("银行家舍入到分"),
}


class MoneyError(ValueError):
    pass


def to_decimal(value) -> Decimal:
    if isinstance(value, float):
        raise MoneyError("money must not be a float")
    try:
        d = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"not an amount: {value!r}") from exc
    if not d.is_finite():
        raise MoneyError(f"not an amount: {value!r}")
    return d


def yuan(value) -> Decimal:
    """An exact amount in yuan; refuses more than two decimal places."""
    d = to_decimal(value)
    if d != d.quantize(FEN):
        raise MoneyError(f"amount has more than two decimal places (fen): {value}")
    return d.quantize(FEN)


def round_fen(value, rule: str = "half_up") -> Decimal:
    return to_decimal(value).quantize(FEN, rounding=ROUNDING_RULES[rule])


def fmt_yuan(value) -> str:
    if value is None:
        return ""
    return f"{Decimal(value).quantize(FEN):,}"
