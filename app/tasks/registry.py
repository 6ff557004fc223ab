"""The one registry of form keys: for each key a diagram names, its form, label, template and handler.

Feature packages register their task pages here (``app/*/handlers.py``); nothing else maps a form
key to anything.  A test checks that every form key of every diagram in bpmn/ resolves here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

_HANDLERS: dict[str, "TaskHandler"] = {}


@dataclass(frozen=True)
class TaskHandler:
    form_key: str
    form: type                 # the WTForms form (forms/)
    label: str                 # msgid (marked with N_) shown in the task queue, translated there
    template: str
    prepare: Callable          # (form, human_task, user) -> None: fill choices / defaults
    context: Callable          # (human_task, user) -> dict for the template
    submit: Callable           # (form, human_task, user, written_files) -> str: success message
    needs_claim: bool = False
    # (form, human_task, user) -> None: what validating a POST needs, when that is less than ``prepare``
    # (e.g. the operation itself checks a choice against the database); ``prepare`` still runs
    # before a page is shown, the form re-shown after a refusal included.  None: ``prepare``.
    prepare_post: Callable | None = None


def register(handler: TaskHandler) -> TaskHandler:
    known = _HANDLERS.get(handler.form_key)
    if known is not None and known != handler:
        raise RuntimeError(f"form key {handler.form_key!r} is registered twice")
    _HANDLERS[handler.form_key] = handler
    return handler


def handler_for(form_key: str) -> TaskHandler:
    return _HANDLERS[form_key]


def find(form_key: str | None) -> TaskHandler | None:
    """The registered handler of ``form_key``, or None (the task may then show a deployed form-js form)."""
    return _HANDLERS.get(form_key) if form_key else None


def registered() -> dict[str, TaskHandler]:
    return dict(_HANDLERS)


def labels() -> dict[str, str]:
    """Form key → label (a msgid), for the queue."""
    return {key: h.label for key, h in _HANDLERS.items()}


def has_form(form_key: str) -> bool:
    """Whether ``form_key`` is shown and submitted by a registered handler (deploy refuses a user
    task whose form key has none)."""
    return form_key in _HANDLERS
