"""Interest subsidies and guarantee-fee subsidies (永川 seed 004 lines 83, 95; issue 13 item 5).

* ``rules.py``: the amount of one period's subsidy (pure, Decimal, rounding named) and eligibility.
* ``operations.py``: applying, the review chain of ``bpmn/interest_subsidy.bpmn``, payment from the
  programme's budget (its own append-only ledger, apart from the risk-compensation fund), budget
  allocations and guarantee-fee subsidy records.
* ``handlers.py``: the task pages of the chain; ``views.py``: the other pages.
"""
