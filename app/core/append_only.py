"""Append-only tables (the fund's ledger, the subsidy budgets' ledgers): a row is inserted and never changed
or deleted; a correction is a new row.  One before-flush check for every such model."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session


class AppendOnlyViolation(RuntimeError):
    """A flush would change or delete a row of an append-only table (a programming error, never user input)."""


class AppendOnly:
    """Mixin for an append-only model: ``append_only_error`` is what a change of one of its rows raises,
    ``append_only_name`` names the row in the message."""
    append_only_error: type[AppendOnlyViolation] = AppendOnlyViolation
    append_only_name = "row"


@event.listens_for(Session, "before_flush")
def _refuse_changes(session, flush_context, instances):
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AppendOnly) and (obj in session.deleted or session.is_modified(obj)):
            raise obj.append_only_error(f"{obj.append_only_name} {obj.id} is append-only: post a new entry instead")
