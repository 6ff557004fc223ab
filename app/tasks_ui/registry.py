"""How each form key is shown and submitted.  Feature packages register their handlers here."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

_HANDLERS: dict[str, "TaskHandler"] = {}


@dataclass
class TaskHandler:
    form_key: str
    template: str
    prepare: Callable          # (form, human_task, user) -> None: fill choices / defaults
    context: Callable          # (human_task, user) -> dict for the template
    submit: Callable           # (form, human_task, user, written_files) -> str: success message
    needs_claim: bool = False


def register(handler: TaskHandler) -> TaskHandler:
    _HANDLERS[handler.form_key] = handler
    return handler


def handler_for(form_key: str) -> TaskHandler:
    return _HANDLERS[form_key]


def has_form(form_key: str) -> bool:
    """Whether ``form_key`` is shown and submitted by a registered handler (deploy refuses a user
    task whose form key has none)."""
    return form_key in _HANDLERS
