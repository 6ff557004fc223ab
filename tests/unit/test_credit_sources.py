"""Row validation of credit-data files (app/credit/sources.py): no database, every problem at once."""
from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from app.core.uscc import make
from app.credit import sources
from app.credit.sources import CATEGORIES, RowError, load_categories, read_table, validate_rows

GOOD = make("91500114MA0000011")
OTHER = make("91500114MA0000022")
BAD_CHECK = GOOD[:17] + ("0" if GOOD[17] != "0" else "1")
TAX = CATEGORIES["tax"]
HEADER = [c.header for c in TAX.columns]


@pytest.fixture(autouse=True)
def _ctx(app):
    with app.test_request_context("/"):
        yield


def _check(rows, cat=TAX, period="2025Q3"):
    return validate_rows(cat, period, [HEADER if cat is TAX else [c.header for c in cat.columns], *rows])


def test_a_clean_file_gives_typed_values():
    rows, errors = _check([[GOOD, "绿源", "2025Q3", "A", "12345.6", ""], [OTHER, "精工", "2025q3", "B", 800, "0.5"]])
    assert errors == []
    assert rows[0].values == {"uscc": GOOD, "firm_name": "绿源", "period": "2025Q3", "tax_credit_grade": "A",
                              "tax_paid": "12345.60"}
    assert rows[1].values["tax_paid"] == "800.00" and rows[1].values["tax_arrears"] == "0.50"
    assert rows[1].row == 3


def test_every_error_is_listed_with_row_and_column():
    rows, errors = _check([
        [BAD_CHECK, "甲", "2025Q3", "A", "1.00", ""],          # check character
        [GOOD, "乙", "2025Q2", "A", "1.00", ""],               # another period
        [OTHER, "丙", "2025Q3", "A", "1.001", ""],             # three decimals
        [make("91500114MA0000033"), "", "2025Q3", "E", "-5", "x"],   # four problems in one row
    ])
    assert rows == [] or all(r.row not in (2, 3, 4, 5) for r in rows)
    by_row = {}
    for e in errors:
        by_row.setdefault(e.row, []).append(e)
    assert [e.column for e in by_row[2]] == ["统一社会信用代码"] and "校验位" in by_row[2][0].message
    assert [e.column for e in by_row[3]] == ["期间"] and "2025Q3" in by_row[3][0].message
    assert [e.column for e in by_row[4]] == ["本期纳税额（元）"] and "两位小数" in by_row[4][0].message
    assert sorted(e.column for e in by_row[5]) == sorted(["企业名称", "纳税信用等级", "本期纳税额（元）", "欠税金额（元）"])
    assert len(errors) == 7


def test_headers_missing_unknown_or_repeated_are_refused_before_rows():
    _rows, errors = validate_rows(TAX, "2025Q3", [["统一社会信用代码", "企业名称", "期间", "纳税信用等级", "备注", "期间"],
                                                  [GOOD, "x", "2025Q3", "A"]])
    assert {(e.row, e.column, e.message) for e in errors} >= {(1, "备注", "不是“纳税”模板中的列"), (1, "期间", "列重复"),
                                                              (1, "本期纳税额（元）", "缺少必填列")}
    assert all(e.row == 1 for e in errors)


def test_optional_column_may_be_left_out_and_english_headers_are_accepted():
    rows, errors = validate_rows(TAX, "2025Q3", [["Unified social credit code", "Firm name", "Period", "Tax credit grade",
                                                  "Tax paid this period (yuan)"], [GOOD, "x", "2025Q3", "M", "3"]])
    assert errors == [] and rows[0].values["tax_paid"] == "3.00" and "tax_arrears" not in rows[0].values


def test_duplicates_by_the_categorys_key():
    _rows, errors = _check([[GOOD, "a", "2025Q3", "A", "1", ""], [GOOD, "a", "2025Q3", "A", "2", ""]])
    assert [(e.row, e.column) for e in errors] == [(3, "")] and "第 2 行" in errors[0].message
    judicial = CATEGORIES["judicial"]                       # several cases of one firm are fine, one case twice is not
    rows, errors = _check([[GOOD, "a", "2025Q3", "被执行人", "案1", "法院", "", "2025-08-01", ""],
                           [GOOD, "a", "2025Q3", "失信被执行人", "案2", "法院", "100", "2025-08-02", "2025-08-01"],
                           [GOOD, "a", "2025Q3", "被执行人", "案1", "法院", "", "2025-08-03", ""]], cat=judicial)
    assert [(e.row, e.column) for e in errors] == [(3, "结案或移出日期"), (4, "")]


def test_dates_ratings_integers_and_blank_rows():
    report = CATEGORIES["credit_report"]
    rows, errors = _check([[GOOD, "a", "2025Q3", "XY1", "aa+", "机构", "2025-09-30"], [None] * 7,
                           [OTHER, "b", "2025Q3", "XY2", "A++", "机构", "2025/09/30"]], cat=report)
    assert rows[0].values["rating"] == "AA+"
    assert [(e.row, e.column) for e in errors] == [(4, "信用等级"), (4, "报告日期")]
    social = CATEGORIES["social_insurance"]
    _rows, errors = _check([[GOOD, "a", "2025Q3", "12.5", "1", ""]], cat=social)
    assert [(e.row, e.column, e.message) for e in errors] == [(2, "参保人数", "应为非负整数")]


def test_nothing_but_a_header_is_an_error():
    assert validate_rows(TAX, "2025Q3", [HEADER])[1] == [RowError(0, "", "文件中没有数据行")]


def test_messages_and_columns_in_english(app):
    with app.test_request_context("/?lang=en"):
        _rows, errors = _check([[BAD_CHECK, "a", "2025Q3", "A", "1", ""]])
        assert errors[0].column == "Unified social credit code"


def test_read_table_xlsx_csv_and_other_files():
    wb = sources.template_workbook(TAX)
    ws = wb.active
    ws.append([GOOD, "a", "2025Q3", "A", 12.5, None])
    buf = io.BytesIO()
    wb.save(buf)
    rows = read_table("q3.xlsx", buf.getvalue())
    assert rows[0] == HEADER
    got, errors = validate_rows(TAX, "2025Q3", rows)
    assert errors == [] and got[0].values["tax_paid"] == "12.50"       # a float cell by its decimal form
    csv_bytes = sources.template_csv(TAX) + f"{GOOD},甲,2025Q3,A,1,\r\n".encode()
    assert read_table("q3.csv", csv_bytes)[1][:2] == [GOOD, "甲"]
    gbk = ",".join(HEADER).encode("gb18030") + b"\r\n"
    assert read_table("q3.CSV", gbk)[0] == HEADER                     # as a Chinese Excel saves it
    with pytest.raises(sources.FileRefused) as exc:
        read_table("q3.pdf", b"%PDF-1.4")
    assert exc.value.errors[0].row == 0
    with pytest.raises(sources.FileRefused):
        read_table("q3.xlsx", b"not a zip")


def test_template_workbook_has_the_headers_and_notes():
    wb = load_workbook(io.BytesIO(_save(sources.template_workbook(CATEGORIES["judicial"]))))
    assert [c.value for c in wb.worksheets[0][1]] == [c.header for c in CATEGORIES["judicial"].columns]
    assert wb.worksheets[1].title == "填写说明"


def _save(wb):
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_the_categories_file_is_data_and_is_checked(tmp_path):
    assert {"tax", "social_insurance", "housing_fund", "water", "power", "gas", "business_registration", "judicial",
            "land", "credit_report"} <= set(CATEGORIES)
    doc = json.loads(sources.DATA_FILE.read_text(encoding="utf-8"))
    doc["categories"][0]["columns"][3]["type"] = "colour"
    bad = tmp_path / "c.json"
    bad.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown type"):
        load_categories(bad)


# ---------------------------------------------------------------------------- the gates read loaded data

def _record(category, values, period="2025Q3"):
    from app.credit.models import CreditRecord
    return CreditRecord(category=category, period=period, values_json=json.dumps(values, ensure_ascii=False), id=0)


def test_gate_uses_the_loaded_rating_when_the_firm_declares_a():
    from datetime import date
    from decimal import Decimal

    from app.accounts.models import Organisation
    from app.policies.gates import LoanFacts, check_gates
    from app.policies.presets import preset_params
    firm = Organisation(id=1, code=GOOD, name="x")
    recs = [_record("credit_report", {"rating": "A", "report_no": "1", "report_date": "2025-01-15"}, "2025Q1"),
            _record("credit_report", {"rating": "BBB", "report_no": "2", "report_date": "2025-09-30"}),
            _record("credit_report", {"rating": "AAA", "report_no": "3", "report_date": "2026-01-10"}, "2025Q4"),
            _record("judicial", {"record_kind": "失信被执行人", "case_no": "执1", "listed_on": "2025-03-01",
                                 "removed_on": "2025-06-01"}),
            _record("judicial", {"record_kind": "失信被执行人", "case_no": "执2", "listed_on": "2025-09-01"})]
    f = sources.facts_of(firm, date(2025, 10, 1), recs)      # the AAA report is dated after the approval day
    assert (f.rating, f.has_report) == ("BBB", True) and [d.split()[1][:2] for d in f.dishonesty] == ["执2"]
    assert sources.facts_of(firm, date(2025, 5, 1), recs).dishonesty[0].split()[1].startswith("执1")
    assert sources.facts_of(firm, date(2025, 1, 1), recs).has_report is False
    assert "BBB" in sources.declaration_mismatch("A", f) and sources.declaration_mismatch("bbb", f) is None

    params = preset_params("lingyuan_2020")
    facts = LoanFacts(amount=Decimal("100000.00"), annual_rate=Decimal("5.00"), term_months=12,
                      disbursed_on=date(2025, 10, 1), activity="general", reference_rate=Decimal("4.35"),
                      credit_rating=f.rating, declared_rating="A", credit_report=f.has_report,
                      dishonesty_records=tuple(f.dishonesty), credit_rating_source=f.rating_source)
    by_rule = {r.rule: r for r in check_gates(params, facts).results}
    assert not by_rule["credit_rating"].passed and "企业申报 A 级" in by_rule["credit_rating"].message
    assert by_rule["credit_report"].passed and not by_rule["dishonesty_record"].passed
    # the same firm with no loaded report fails even though it declares A
    facts.credit_rating, facts.credit_report, facts.dishonesty_records = None, False, ()
    by_rule = {r.rule: r for r in check_gates(params, facts).results}
    assert not by_rule["credit_rating"].passed and not by_rule["credit_report"].passed
    assert by_rule["dishonesty_record"].passed
