"""Transaction boundaries: one per web request, one per unit of background work.

A request is one unit of work (Indico's ``RH.process``): operations ``flush()``, the request commits
once, after the view returned a response below 400, and rolls back otherwise — on a 4xx re-render,
on a refused operation (:class:`app.core.errors.DomainError`) and on any exception.  Views never
call ``db.session.commit()``.  Because the commit is the one in :func:`_finish`, the e-mail hook in
``app/notifications`` (an ``after_commit`` listener) still queues mail only once the step is stored.

Celery jobs and CLI commands are not requests: they draw their own boundaries, with
:func:`unit_of_work` (or explicit commits where one job commits many small units).

A view that writes files before the transaction ends registers their removal with
:func:`on_rollback`, so a refused or failed request leaves no orphan uploads.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable

from flask import Flask, has_request_context, request

from app.core.db import db

_STATE = "zx.transaction"


class _RequestState:
    __slots__ = ("rollback_only", "on_rollback")

    def __init__(self):
        self.rollback_only = False
        self.on_rollback: list[Callable[[], None]] = []


def _state() -> _RequestState:
    # on the WSGI environ, not on ``g``: tests reuse one app context (and its ``g``) for many requests
    return request.environ.setdefault(_STATE, _RequestState())


def on_rollback(fn: Callable[[], None]) -> None:
    """Call ``fn`` if this request's transaction is rolled back (e.g. remove files written for it)."""
    if has_request_context():
        _state().on_rollback.append(fn)


def rollback() -> None:
    """Undo what this request flushed so far, and make sure nothing of it is committed at the end.

    Views call it before re-rendering a form after a refusal, so the page shows the stored state.
    """
    db.session.rollback()
    if not has_request_context():
        return
    st = _state()
    st.rollback_only = True
    callbacks, st.on_rollback = st.on_rollback, []
    for fn in callbacks:
        fn()


def commit_now() -> None:
    """Commit what this request did so far, for an answer that reports a partial success with an
    error status (a mixed upload: the good files are deployed, the refused ones listed with a 400)."""
    db.session.commit()
    if has_request_context():
        _state().on_rollback.clear()


def _finish(response):
    st = _state()
    if st.rollback_only or response.status_code >= 400:
        rollback()
        return response
    try:
        db.session.commit()
    except BaseException:
        rollback()
        raise
    st.on_rollback.clear()
    return response


def _teardown(exc):
    # an exception no handler turned into a response (PROPAGATE_EXCEPTIONS, e.g. in tests)
    if exc is not None:
        rollback()


def init_app(app: Flask) -> None:
    app.after_request(_finish)
    app.teardown_request(_teardown)


@contextmanager
def unit_of_work():
    """Commit the block's work on success, roll it back on any exception (jobs and CLI commands)."""
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
