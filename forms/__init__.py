"""The WTForms forms, one module per feature.  A user task's form is found by its form key in the one
registry of form keys, app/tasks/registry.py (each feature's handlers.py registers its keys)."""
from forms.application import ApplicationForm  # noqa: F401
