from decimal import Decimal

from wtforms.validators import ValidationError

from app.core.i18n import _l
from app.core.uscc import validate as validate_uscc


def fen_amount(min_value=Decimal("0.01"), max_value=None):
    def _check(form, field):
        v = field.data
        if v is None:
            return
        if v != v.quantize(Decimal("0.01")):
            raise ValidationError(_l("金额最多保留两位小数（分）"))
        if v < min_value:
            raise ValidationError(_l("金额必须大于零"))
        if max_value is not None and v > max_value:
            raise ValidationError(_l("金额过大"))
    return _check


def uscc(form, field):
    err = validate_uscc(field.data)
    if err:
        raise ValidationError(err)
