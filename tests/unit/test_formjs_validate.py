"""The server's validation of form-js submissions, field type by field type (no HTTP, no database)."""
from __future__ import annotations

import json
from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from app.formjs import schema, validate

TODAY = date(2026, 11, 24)
FORM = {"type": "default", "id": "zz_types", "components": [
    {"type": "number", "id": "n_int", "key": "count", "decimalDigits": 0, "validate": {"min": 1, "max": 10}},
    {"type": "number", "id": "n_rate", "key": "rate", "decimalDigits": 2},
    {"type": "radio", "id": "r", "key": "size", "values": [{"label": "大", "value": "L"}, {"label": "小", "value": "S"}]},
    {"type": "taglist", "id": "t", "key": "tags", "validate": {"required": True},
     "values": [{"label": "甲", "value": "a"}, {"label": "乙", "value": 2}]},
    {"type": "datetime", "id": "d_time", "key": "at", "subtype": "time"},
    {"type": "datetime", "id": "d_dt", "key": "when", "subtype": "datetime"},
    {"type": "datetime", "id": "d_future", "key": "due", "subtype": "date", "disallowPassedDates": True},
    {"type": "textfield", "id": "mail", "key": "mail", "validate": {"validationType": "email", "minLength": 6}},
    {"type": "textfield", "id": "phone", "key": "phone", "validate": {"validationType": "phone"}},
    {"type": "textfield", "id": "fixed", "key": "fixed", "readonly": True, "defaultValue": "x"},
    {"type": "group", "id": "g", "label": "组", "components": [
        {"type": "checkbox", "id": "c", "key": "agree", "validate": {"required": True}}]},
]}
GOOD = {"count": "3", "rate": "1.25", "size": "L", "tags": ["a", "2"], "at": "09:30", "when": "2026-12-01T09:30:00+08:00",
        "due": "2026-11-24", "mail": "a@b.cn", "phone": "+862312345678", "agree": "true"}


@pytest.fixture
def fields(ctx):
    return schema.parse(json.dumps(FORM)).fields


def _check(fields, **over):
    data = MultiDict()
    for k, v in {**GOOD, **over}.items():
        if v is None:
            continue
        for item in (v if isinstance(v, list) else [v]):
            data.add(k, item)
    return validate.check(fields, data, TODAY)


def test_good_values_and_their_types(fields):
    c = _check(fields, fixed="forged")
    assert c.errors == {}
    assert c.values == {"count": 3, "rate": "1.25", "size": "L", "tags": ["a", "2"], "at": "09:30",
                        "when": "2026-12-01T09:30:00+08:00", "due": "2026-11-24", "mail": "a@b.cn",
                        "phone": "+862312345678", "agree": True}          # readonly: never from the request


@pytest.mark.parametrize("key, value, field_id, message", [
    ("count", "2.5", "n_int", "请输入整数"), ("count", "0", "n_int", "不能小于 1"), ("count", "11", "n_int", "不能大于 10"),
    ("count", "0x10", "n_int", "请输入有效的数字"), ("count", ["1", "2"], "n_int", "只能填写一个值"),
    ("rate", "1.255", "n_rate", "最多 2 位小数"), ("rate", "-Infinity", "n_rate", "请输入有效的数字"),
    ("rate", "18446744073709551616", "n_rate", "数值超出允许范围"),
    ("size", "M", "r", "请从列出的选项中选择"), ("tags", None, "t", "请至少选择一项"),
    ("tags", ["a", "a"], "t", "请从列出的选项中选择"), ("at", "25:00", "d_time", "有效的时间"),
    ("when", "2026-12-01 09:30", "d_dt", "有效的日期和时间"), ("due", "2026-11-23", "d_future", "不能早于今天"),
    ("mail", "abc@def", "mail", "电子邮件"), ("mail", "a@b.c", "mail", "至少 6 个字符"), ("phone", "023-1234", "phone", "电话"),
    ("agree", None, "c", "请勾选此项"), ("agree", "on", "c", "无效的选项"), ("mail", "a\x00@b.cn", "mail", "控制字符"),
])
def test_each_rule_refuses_with_the_fields_message(fields, key, value, field_id, message):
    c = _check(fields, **{key: value})
    assert set(c.errors) == {field_id} and message in c.errors[field_id]
    assert key not in c.values


def test_the_viewer_schema_is_localised_and_buttonless(ctx):
    raw = {"type": "default", "id": "zz_l10n", "components": [
        {"type": "select", "id": "s", "key": "k", "label": "意见", "values": [{"label": "同意", "value": "yes"}],
         "properties": {"label_en": "Opinion", "label_en:yes": "Agree"}},
        {"type": "number", "id": "m", "key": "amount", "label": "金额", "properties": {"money": "true"}},
        {"type": "button", "id": "b", "action": "submit", "label": "提交"}]}
    zh, en = schema.localized(raw, "zh"), schema.localized(raw, "en")
    assert [c["type"] for c in en["components"]] == ["select", "number"]
    assert zh["components"][0]["label"] == "意见" and en["components"][0]["label"] == "Opinion"
    assert en["components"][0]["values"][0]["label"] == "Agree"
    assert en["components"][1]["validate"]["min"] == 0 and en["components"][1]["serializeToString"] is True
    assert raw["components"][0]["label"] == "意见"          # the stored schema is untouched
