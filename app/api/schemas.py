"""The API's request and response bodies (marshmallow schemas, documented in the OpenAPI file).

Amounts travel as strings of yuan ("1234.50"): JSON numbers are binary floats.  Request fields are
only shape-checked here; what a row means is checked by the loan book's one validation
(app/loanbook/operations.py), which lists every problem of the book at once."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.loanbook.operations import MAX_ROWS

MONEY = {"example": "1000000.00"}


class ErrorDetailSchema(Schema):
    line = fields.Integer(required=True, metadata={"description": "row index in `rows` (0 when not about a row)"})
    column = fields.String(required=True)
    message = fields.String(required=True)


class ErrorSchema(Schema):
    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String()
    errors = fields.List(fields.Nested(ErrorDetailSchema))


class BookRowIn(Schema):
    loan_no = fields.String(required=True, validate=validate.Length(max=60))
    outstanding_principal = fields.String(required=True, validate=validate.Length(max=40), metadata=MONEY)
    repaid_principal = fields.String(required=True, validate=validate.Length(max=40), metadata={"example": "0.00"})
    classification = fields.String(required=True, validate=validate.Length(max=40), metadata={
        "description": "normal | special_mention | substandard | doubtful | loss (or 正常/关注/次级/可疑/损失)"})
    status = fields.String(required=True, validate=validate.Length(max=40), metadata={
        "description": "performing | overdue | repaid | renewed | written_off"})


class BookIn(Schema):
    rows = fields.List(fields.Nested(BookRowIn), required=True, validate=validate.Length(max=MAX_ROWS))


class BookRowOut(Schema):
    loan_no = fields.String(required=True)
    month = fields.String(required=True)
    outstanding_principal = fields.String(required=True)
    repaid_principal = fields.String(required=True)
    classification = fields.String(required=True)
    status = fields.String(required=True)
    source = fields.String(required=True)
    updated_at = fields.DateTime(required=True)


class BookResultOut(Schema):
    month = fields.String(required=True)
    inserted = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    removed = fields.Integer(required=True)
    rows = fields.List(fields.Nested(BookRowOut), required=True)


class BookMonthOut(Schema):
    month = fields.String(required=True)
    expected_loans = fields.List(fields.String(), required=True)
    missing_loans = fields.List(fields.String(), required=True)
    rows = fields.List(fields.Nested(BookRowOut), required=True)


class TaskOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    title = fields.String(required=True)
    form_key = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean(required=True)
    claimed = fields.Boolean(required=True)


class ClaimOut(Schema):
    no = fields.String(required=True)
    loan_no = fields.String(required=True)
    status = fields.String(required=True)
    status_label = fields.String(required=True)
    overdue_on = fields.Date(required=True)
    overdue_principal = fields.String(required=True)
    payout_amount = fields.String(allow_none=True)
    updated_at = fields.DateTime(required=True)


class ClaimsQuery(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000))
