"""Stored keys and formulas as the pages show them."""
from __future__ import annotations

from flask_babel import force_locale

from app.core.labels import action_label, formula_text, kind_label, subject_ref


def test_formula_amounts_formatted_like_the_amounts_beside_them(app):
    with app.test_request_context("/"), force_locale("zh"):
        assert formula_text("800000.00 × 65% = 520000.0000，四舍五入到分") == "800,000.00 × 65% = 520,000.00，四舍五入到分"
        assert formula_text("max(0, 1200.00 − 300.5)") == "max(0, 1,200.00 − 300.50)"
        assert formula_text("1000.125 × 50%") == "1,000.125 × 50%"       # more places than fen: kept
        assert formula_text("") == ""


def test_formula_words_translated(app):
    with app.test_request_context("/"), force_locale("en"):
        text = formula_text("800000.00 × 65% = 520000.0000，四舍五入到分")
        assert text.startswith("800,000.00 × 65% = 520,000.00") and "四舍五入" not in text and "，" not in text


def test_keys_in_words(app):
    with app.test_request_context("/"), force_locale("zh"):
        assert action_label("duty_created") == "生成报送任务"
        assert kind_label("business_licence") == "营业执照"
        assert kind_label("rectification_report") == "整改报告"
        assert subject_ref("compensation_claim", 1) == "补偿申请 #1"
        assert subject_ref(None, None) == "" and action_label("unknown_key") == "unknown_key"
    with app.test_request_context("/"), force_locale("en"):
        assert subject_ref("compensation_claim", 1) == "Compensation claim #1"


def test_stored_messages_are_shown_in_the_readers_language(app):
    from app.core.i18n import N_, chinese_data, shown, shown_in_source_language, stored
    title = stored(N_("{bank} · {scheme} · 暂停业务整改"), bank={"name": "甲银行", "name_en": "Bank A"},
                   scheme={"name": "黔江", "name_en": ""})
    with app.test_request_context("/"), force_locale("zh"):
        assert shown(title) == "甲银行 · 黔江 · 暂停业务整改"
    with app.test_request_context("/?lang=en"), force_locale("en"):
        assert shown(title) == "Bank A · 黔江 · rectification after suspension"     # no English name: the name
        assert shown_in_source_language(title) == "甲银行 · 黔江 · 暂停业务整改"        # e-mails, API, exports
        # text that is not a stored message (typed by a user, written before) is shown as it is
        assert shown("连续三期未付息") == "连续三期未付息" and shown(None) == "" and shown('{"msgid": 1') == '{"msgid": 1'
        assert shown(stored(N_("{no} 先行代偿 {loan}"), no="BC-1")) == stored(N_("{no} 先行代偿 {loan}"), no="BC-1")
        assert str(chinese_data("第十条")) == '<span lang="zh-CN">第十条</span>' and chinese_data("Art. 10") == "Art. 10"
    with app.test_request_context("/"), force_locale("zh"):
        assert chinese_data("第十条") == "第十条"
