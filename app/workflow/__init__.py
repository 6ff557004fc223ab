"""The SpiffWorkflow adapter.  Nothing outside this package imports SpiffWorkflow."""
# Registers the helpers every diagram may call (dates in working days, money to the fen).
from app.workflow import diagram_helpers  # noqa: E402,F401
