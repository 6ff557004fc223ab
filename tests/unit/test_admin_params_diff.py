"""The diff of two parameter versions shown in a scheme's history (pure function, no database)."""
from app.admin.operations import diff_params


def test_diff_names_changed_nested_added_and_removed_keys():
    old = {"fund_share": "0.50", "rate_cap": {"kind": "benchmark_plus", "points": "3.00"},
           "products": [{"code": "a", "fund_share": "0.50"}], "notes": "x", "gone": True}
    new = {"fund_share": "0.50", "rate_cap": {"kind": "benchmark_plus", "points": "2.50"},
           "products": [{"code": "a", "fund_share": "0.60"}, {"code": "b", "fund_share": "0.30"}],
           "notes": "x", "cap_per_loan": "500000.00"}
    d = {c["key"]: (c["old"], c["new"]) for c in diff_params(old, new)}
    assert d == {
        "rate_cap.points": ('"3.00"', '"2.50"'),
        "products[0].fund_share": ('"0.50"', '"0.60"'),
        "products[1].code": ("—", '"b"'),
        "products[1].fund_share": ("—", '"0.30"'),
        "gone": ("true", "—"),
        "cap_per_loan": ("—", '"500000.00"'),
    }


def test_no_change_no_diff():
    p = {"a": [1, 2], "b": {"c": None}}
    assert diff_params(p, {"b": {"c": None}, "a": [1, 2]}) == []
    assert [c["key"] for c in diff_params(p, {"a": [1, 3], "b": {"c": None}})] == ["a"]
