"""Registers (台账): filtered, paged, exported lists of applications, loans, claims and fund movements per role."""
