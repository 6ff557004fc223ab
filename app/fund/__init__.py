"""The risk-compensation fund: an append-only ledger per scheme, and the thresholds it drives."""
