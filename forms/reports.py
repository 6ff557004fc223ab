"""Forms of the reports pages (app/reports/views.py)."""
from __future__ import annotations

from wtforms import BooleanField
from wtforms.validators import ValidationError

from app.core.i18n import _l
from forms.fields import Form


class ArchiveForm(Form):
    """Archive the month's report: a button with its CSRF token only."""


class ReportIssueForm(Form):
    """The report duty's task page: confirm the figures and issue (archive) the report."""
    confirmed = BooleanField(_l("确认报表内容无误，报送并归档"))

    def validate_confirmed(self, field):
        if not field.data:
            raise ValidationError(_l("请确认报表内容"))
