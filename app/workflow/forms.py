"""Forms declared with the diagram: deploy ``.form`` files as versions, and pin each task to one.

A user task whose form key has no registered task page (:mod:`app.tasks.registry`) is shown with the
deployed form-js form of that id (``bpmn/<anything>.form`` holding ``"id": "<form key>"``).  Versions work
like the diagrams': identical content is the same version, changed content a new one, and each human task
records the version that was current when it was created, so an open task keeps its form when the form
is redeployed changed.  Deploying the content of an older version makes that version current again.

:func:`form_exists` is what the diagram deploy asks: a form key must name a registered page or a form.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import func, select

from app.core.db import db
from app.core.errors import DomainError
from app.formjs import schema as formjs_schema
from app.formjs.models import FormArtifact
from app.workflow.models import HumanTask


class FormDeployError(DomainError):
    """A form file that cannot be deployed: the message names the file and the component."""
    status = 400

    def __init__(self, filename: str, element: str | None, reason: str):
        self.filename, self.element, self.reason = filename, element, reason
        where = f"{filename}" + (f" [{element}]" if element else "")
        super().__init__(f"{where}: {reason}")


def parse_form(content: bytes | str, filename: str) -> formjs_schema.FormSchema:
    try:
        return formjs_schema.parse(content)
    except formjs_schema.SchemaError as exc:
        raise FormDeployError(filename, exc.element, str(exc)) from None


def current(form_id: str) -> FormArtifact | None:
    return db.session.scalar(select(FormArtifact).where(FormArtifact.form_id == form_id)
                             .order_by(FormArtifact.activation.desc()).limit(1))


def form_exists(form_key: str) -> bool:
    """True when a form of this id is deployed (what the diagram deploy checks for a form key)."""
    return db.session.scalar(select(FormArtifact.id).where(FormArtifact.form_id == form_key).limit(1)) is not None


def deploy_form(content: bytes | str, filename: str) -> FormArtifact:
    """Deploy one form file's content; returns its version (new, or the existing one, made current)."""
    parsed = parse_form(content, filename)
    text = formjs_schema.canonical(parsed.raw)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    now_current = current(parsed.form_id)
    row = db.session.scalar(select(FormArtifact).where(FormArtifact.form_id == parsed.form_id,
                                                       FormArtifact.content_hash == digest))
    top = now_current.activation if now_current else 0
    if row is None:
        last = db.session.scalar(select(func.max(FormArtifact.version)).where(FormArtifact.form_id == parsed.form_id))
        row = FormArtifact(form_id=parsed.form_id, version=(last or 0) + 1, content_hash=digest,
                           filename=filename, schema_json=text, activation=top + 1)
        db.session.add(row)
    elif now_current is not None and now_current.id != row.id:
        row.activation = top + 1          # an older version deployed again: it is current again
    db.session.flush()
    return row


def deploy_form_file(path: Path) -> FormArtifact:
    return deploy_form(path.read_bytes(), path.name)


def deploy_form_directory(directory: Path) -> list[FormArtifact]:
    """Deploy every ``*.form`` of ``directory``; a bad file refuses the whole call, naming file and element."""
    return [deploy_form_file(p) for p in sorted(Path(directory).glob("*.form"))]


def artifact_for(ht: HumanTask) -> FormArtifact | None:
    """The form version a task shows and validates against: the one pinned on it, else the current one."""
    if ht.form_artifact_id is not None:
        return db.session.get(FormArtifact, ht.form_artifact_id)
    return current(ht.form_key) if ht.form_key else None


def schema_of(artifact: FormArtifact) -> formjs_schema.FormSchema:
    return formjs_schema.parse(artifact.schema_json)


def version_subquery(form_key):
    """The current version of the form named by ``form_key`` (a value or a SQL expression) as a subquery: a
    new task's ``INSERT`` (app/workflow/rows.py) looks its version up itself (NULL when no such form is
    deployed)."""
    return (select(FormArtifact.id).where(FormArtifact.form_id == form_key)
            .order_by(FormArtifact.activation.desc(), FormArtifact.id.desc()).limit(1).scalar_subquery())


__all__ = ["FormDeployError", "form_exists", "deploy_form", "deploy_form_file", "deploy_form_directory",
           "current", "artifact_for", "schema_of"]
