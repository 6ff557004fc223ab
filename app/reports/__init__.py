"""Reports to the supervising units, archived per period (the monthly statistics to 人民银行 first)."""
