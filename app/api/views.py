"""The JSON API for bank core systems and data-source units, under /api/v1 (flask-smorest).

* Authentication: ``Authorization: Bearer <token>`` only (app/api/tokens.py).  The session cookie
  is never read here, so a logged-in browser cannot call the API, and CSRF does not apply
  (the blueprint is exempted in create_app).
* Scope: the token's organisation.  A bank reads and writes only its own book, tasks and claims.
* Audit: every call, refused ones included, is one ``api_calls`` row (token, organisation,
  method, path, status).  A refused call's work is rolled back and its audit row committed alone.
* Errors: always JSON (``ErrorSchema``), including those raised before a view runs (the request
  guard's 400, 404 of an unknown claim).
* The OpenAPI document: ``/api/v1/openapi.json``; the path carries the major version, the
  document's ``info.version`` the full one (``API_VERSION``).
"""
from __future__ import annotations

import json
from http import HTTPStatus
from types import SimpleNamespace

from flask import Response, g, jsonify, request
from flask_smorest import Api, Blueprint, abort
from werkzeug.exceptions import HTTPException

from app.api import tokens
from app.api.models import ApiCall
from app.api.schemas import (BookIn, BookMonthOut, BookResultOut, ClaimOut, ClaimsQuery, ErrorSchema, TaskOut)
from app.compensation.models import CompensationClaim
from app.compensation.operations import visible_claims
from app.core import transaction
from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import shown_in_source_language
from app.core.input_guard import InputRefused
from app.core.timeutil import now
from app.loanbook import operations as ops
from app.tasks.queries import open_tasks

API_VERSION = "1.0.0"
PREFIX = "/api/v1"
BLUEPRINT = "api_v1"

blp = Blueprint(BLUEPRINT, __name__, url_prefix=PREFIX, description="增信 bank and data-source API")


class ZxApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        """flask-smorest would answer every HTTP error of the whole site in JSON: only the API's."""


def init_app(app) -> ZxApi:
    app.config.update(API_TITLE="zengxin API", API_VERSION=API_VERSION, OPENAPI_VERSION="3.0.3",
                      OPENAPI_URL_PREFIX=PREFIX, OPENAPI_JSON_PATH="openapi.json")
    api = ZxApi(app, spec_kwargs={"security": [{"bearerAuth": []}]})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.register_blueprint(blp)
    app.extensions["zx_api"] = api
    return api


# ---------------------------------------------------------------------------- errors, auth, audit

def _flatten(messages, path=()) -> list[dict]:
    """webargs' nested messages as the API's error list: line = row index, column = field path."""
    out = []
    if isinstance(messages, dict):
        for k, v in messages.items():
            out.extend(_flatten(v, (*path, k)))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        keys = [p for p in path if p not in ("json", "query", "path")]
        line = next((p for p in keys if isinstance(p, int)), 0)
        column = ".".join(str(p) for p in keys if not isinstance(p, int)) or "body"
        out.extend({"line": line, "column": column, "message": m} for m in messages)
    else:
        out.append({"line": 0, "column": ".".join(map(str, path)) or "body", "message": str(messages)})
    return out


def _error(status: int, message: str, errors: list[dict] | None = None):
    body = {"code": status, "status": _reason(status), "message": message}
    if errors is not None:
        body["errors"] = errors
    resp = jsonify(body)
    resp.status_code = status
    return resp


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


@blp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    errors = _flatten(data["messages"]) if "messages" in data else None
    return _error(exc.code or 500, data.get("message") or exc.description or _reason(exc.code or 500), errors)


@blp.errorhandler(ops.BookRefused)
def _book_refused(exc: ops.BookRefused):
    return _error(422, str(exc), [e.to_dict() for e in exc.errors])


@blp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    return _error(exc.status, str(exc))


@blp.errorhandler(InputRefused)
def _input_refused(exc: InputRefused):
    return _error(400, str(exc))


@blp.before_request
def _authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _sep, raw = header.partition(" ")
    token = tokens.authenticate(raw.strip()) if scheme.lower() == "bearer" else None
    g.api_token = token
    if token is None:
        return _error(401, "missing, unknown or revoked bearer token")
    if token is not None:
        token.last_used_at = now()
    return None


@blp.after_request
def _audit(response: Response):
    if response.status_code >= 400 and response.mimetype != "application/json":
        # refused before the view ran (request guard, input refused): still JSON for the client
        message = "request refused"
        response = _error(response.status_code, message)
    token = getattr(g, "api_token", None)
    if response.status_code >= 400:
        transaction.rollback()              # nothing of a refused call stays, but its audit row
        token = tokens.authenticate(request.headers.get("Authorization", "").partition(" ")[2].strip()) \
            if token is not None else None
    db.session.add(ApiCall(token_id=token.id if token else None, organisation_id=token.organisation_id if token else None,
                           method=request.method[:10], path=request.path[:300], status=response.status_code,
                           remote_addr=(request.remote_addr or "")[:64], at=now()))
    if response.status_code >= 400:
        db.session.commit()
    return response


def _org():
    return g.api_token.organisation


def _bank():
    org = _org()
    if org.kind != "bank":
        abort(403, message="only a cooperating bank's token may use the loan book")
    return org


def _month(month: str) -> str:
    problem = ops.month_problem(month)
    if problem:
        raise ops.BookRefused([ops.RowError(0, "month", problem)])
    return month


def _row_out(row) -> dict:
    return {**row.values(), "source": row.source, "updated_at": row.updated_at}


# ---------------------------------------------------------------------------- endpoints

@blp.route("/loan-book/<month>", methods=["PUT"])
@blp.arguments(BookIn)
@blp.response(200, BookResultOut)
@blp.alt_response(401, schema=ErrorSchema, description="no valid token")
@blp.alt_response(403, schema=ErrorSchema, description="the token's organisation is not a bank")
def put_loan_book(body, month):
    """Report the bank's loan book of a month (YYYY-MM): the whole month, replacing what was sent before.

    Same validation as the Excel upload: every problem is listed at once (422) and nothing is stored
    unless every row is valid.  Sending the same book again changes nothing."""
    bank = _bank()
    rows = [ops.RowInput(r["loan_no"], r["outstanding_principal"], r["repaid_principal"], r["classification"],
                         r["status"], line=i) for i, r in enumerate(body["rows"])]
    result = ops.report(bank, _month(month), rows, source="api", token=g.api_token)
    return {"month": result.month, "inserted": result.inserted, "updated": result.updated,
            "unchanged": result.unchanged, "removed": result.removed,
            "rows": [_row_out(r) for r in result.stored]}


@blp.route("/loan-book/<month>", methods=["GET"])
@blp.response(200, BookMonthOut)
@blp.alt_response(401, schema=ErrorSchema, description="no valid token")
@blp.alt_response(403, schema=ErrorSchema, description="the token's organisation is not a bank")
@blp.alt_response(422, schema=ErrorSchema, description="not a month")
def get_loan_book(month):
    """The bank's stored loan book of a month, and the loans still missing from it."""
    bank = _bank()
    cov = ops.coverage(bank.id, _month(month))
    return {"month": month, "expected_loans": [l.no for l in cov.expected],
            "missing_loans": [l.no for l in cov.missing], "rows": [_row_out(r) for r in cov.reported]}


@blp.route("/tasks", methods=["GET"])
@blp.response(200, TaskOut(many=True))
@blp.alt_response(401, schema=ErrorSchema, description="no valid token")
def get_tasks():
    """The open tasks of the token's organisation (its queue), earliest deadline first."""
    return [{"id": t.id, "name": t.name, "title": shown_in_source_language(t.title), "form_key": t.form_key, "created_at": t.created_at,
             "due_at": t.due_at, "overdue": bool(t.overdue), "claimed": t.claimed_by_id is not None}
            for t in open_tasks(_org().id, limit=500)]


def _claim_out(c: CompensationClaim) -> dict:
    return {"no": c.no, "loan_no": c.loan.no, "status": c.status, "status_label": c.status_label,
            "overdue_on": c.overdue_on, "overdue_principal": str(c.overdue_principal),
            "payout_amount": str(c.payout_amount) if c.payout_amount is not None else None,
            "updated_at": c.updated_at}


def _claims_query():
    return visible_claims(SimpleNamespace(organisation=_org()))


@blp.route("/claims", methods=["GET"])
@blp.arguments(ClaimsQuery, location="query")
@blp.response(200, ClaimOut(many=True))
@blp.alt_response(401, schema=ErrorSchema, description="no valid token")
def get_claims(args):
    """Compensation claims the organisation may see (a bank: its own), newest first."""
    q = _claims_query().limit(args["limit"]).offset(args["offset"])
    return [_claim_out(c) for c in db.session.scalars(q)]


@blp.route("/claims/<claim_no>", methods=["GET"])
@blp.response(200, ClaimOut)
@blp.alt_response(401, schema=ErrorSchema, description="no valid token")
@blp.alt_response(404, schema=ErrorSchema, description="no such claim for this organisation")
def get_claim(claim_no):
    """One claim's status, by its number."""
    claim = db.session.scalar(_claims_query().where(CompensationClaim.no == claim_no[:30]))
    if claim is None or len(claim_no) > 30:
        abort(404, message="no such claim")
    return _claim_out(claim)


def openapi_document(app) -> dict:
    return json.loads(json.dumps(app.extensions["zx_api"].spec.to_dict(), default=str))


__all__ = ["blp", "init_app", "openapi_document"]
