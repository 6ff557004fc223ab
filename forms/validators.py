from decimal import Decimal

from wtforms.validators import ValidationError

from app.core.i18n import _l
from app.core.uscc import validate as validate_uscc
from app.core.validation import MONEY_MAX


def fen_amount(min_value=Decimal("0.01"), max_value=MONEY_MAX):
    """Money: a finite Decimal to the fen, at least ``min_value`` and at most ``max_value`` yuan."""
    max_value = min(Decimal(max_value), MONEY_MAX) if max_value is not None else MONEY_MAX

    def _check(form, field):
        v = field.data
        if v is None:
            return
        if not v.is_finite() or abs(v) > MONEY_MAX:
            raise ValidationError(_l("金额超出允许范围（最多 1 万亿元，精确到分）"))
        if v != v.quantize(Decimal("0.01")):
            raise ValidationError(_l("金额最多保留两位小数（分）"))
        if v < min_value:
            raise ValidationError(_l("金额必须大于零"))
        if v > max_value:
            raise ValidationError(_l("金额过大"))
    return _check


def decimal_range(low, high, message):
    """``low <= value <= high``, with a message of our own.

    Unlike WTForms' NumberRange the message is not %-formatted, so it may contain a bare ``%``.
    """
    low, high = Decimal(low), Decimal(high)

    def _check(form, field):
        v = field.data
        if v is None:
            return
        if not v.is_finite() or not low <= v <= high:
            raise ValidationError(message)
    return _check


def uscc(form, field):
    err = validate_uscc(field.data)
    if err:
        raise ValidationError(err)
