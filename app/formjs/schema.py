"""What a form-js form may contain, its input fields, and the schema in the reader's language.

The schema is the JSON the form-js editor and Camunda Modeler write (``{"type": "default", "id": ...,
"components": [...]}``).  The server validates every submission against it (:mod:`app.formjs.validate`),
so a form may only use what that validation understands: an allow-list of component types and of their
properties.  Dynamic behaviour the server cannot evaluate (FEEL expressions, ``conditional``,
``valuesKey``/``valuesExpression``, nested data paths, file uploads) is refused when the form is deployed.

i18n convention (labels in the file are data, not msgids): the texts written in the form are Chinese (the
source language); English goes in the component's custom ``properties`` (the editor's "Custom properties"):

- ``label_en``, ``description_en``, ``text_en`` (a text component), ``patternErrorMessage_en``;
- ``label_en:<value>`` for an option of a select, radio, checklist or taglist.

Money: a ``number`` component with ``properties.money = "true"`` is an amount in yuan: Decimal, at most two
decimal places (to the fen), 0 .. 1 万亿元 unless ``validate.min`` allows less; task data holds it as text
(``"1234.50"``; diagrams read it with ``yuan(...)``).
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field as dc_field
from decimal import Decimal, InvalidOperation

INPUT_TYPES = {"textfield", "textarea", "number", "checkbox", "checklist", "radio", "select", "datetime", "taglist"}
LAYOUT_TYPES = {"text", "spacer", "separator", "group", "button", "default"}
OPTION_TYPES = {"checklist", "radio", "select", "taglist"}
MULTI_TYPES = {"checklist", "taglist"}

# properties a component may carry (anything else is refused at deploy, named)
COMPONENT_KEYS = {
    "type", "id", "key", "label", "description", "validate", "values", "defaultValue", "readonly", "disabled",
    "properties", "appearance", "decimalDigits", "increment", "serializeToString", "subtype", "dateLabel",
    "timeLabel", "disallowPassedDates", "use24h", "timeSerializingFormat", "timeInterval", "searchable",
    "layout", "text", "components", "showOutline", "action", "height", "verticalAlignment",
}
VALIDATE_KEYS = {"required", "min", "max", "minLength", "maxLength", "pattern", "validationType",
                 "patternErrorMessage"}
FORM_KEYS = {"type", "id", "components", "schemaVersion", "exporter", "executionPlatform",
             "executionPlatformVersion", "properties", "name"}
DATETIME_SUBTYPES = {"date", "time", "datetime"}
_HINTS = {
    "conditional": " (a condition is evaluated by the browser only; the server could not check what it hides)",
    "valuesKey": ": options must be listed in the form (values), not taken from data",
    "valuesExpression": ": options must be listed in the form (values), not taken from data",
    "path": ": nested data paths are not supported; use plain keys",
}

KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
FORM_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")
MAX_SCHEMA_BYTES = 256 * 1024
MAX_COMPONENTS = 300
MAX_DEPTH = 6
MAX_OPTIONS = 500
DEFAULT_MAX_LENGTH = {"textfield": 500, "textarea": 5000}   # when the form sets no maxLength


class SchemaError(Exception):
    """A form file that cannot be deployed; ``element`` is the component id (or None for the file)."""

    def __init__(self, message: str, element: str | None = None):
        super().__init__(message)
        self.element = element


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    label_en: str


@dataclass(frozen=True)
class Field:
    """One input component, as the validator and the fallback page use it."""
    id: str
    key: str
    type: str
    label: str
    label_en: str
    description: str = ""
    description_en: str = ""
    required: bool = False
    min: Decimal | None = None
    max: Decimal | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_message: str = ""
    pattern_message_en: str = ""
    validation_type: str | None = None
    options: tuple[Option, ...] = ()
    subtype: str = "date"
    money: bool = False
    decimal_digits: int | None = None
    disallow_past: bool = False
    default: object = None
    ignored: bool = False           # readonly or disabled: never taken from a submission

    def text(self, locale: str) -> str:
        return (self.label_en or self.label) if locale == "en" else self.label

    def option_label(self, value: str, locale: str) -> str:
        for o in self.options:
            if o.value == value:
                return (o.label_en or o.label) if locale == "en" else o.label
        return value


@dataclass
class Block:
    """What the fallback page draws, in order: a field, a text, or a group of blocks."""
    kind: str                       # "field" | "text" | "group"
    field: Field | None = None
    text: str = ""
    text_en: str = ""
    children: list["Block"] = dc_field(default_factory=list)


def _props(comp: dict) -> dict:
    props = comp.get("properties") or {}
    return props if isinstance(props, dict) else {}


def _str(value, what: str, element) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SchemaError(f"{what} must be text", element)
    if value.startswith("="):
        raise SchemaError(f"{what} is a FEEL expression ({value[:40]!r}); forms may not compute on the server's "
                          "behalf: write plain text", element)
    return value


def _number(value, what: str, element) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SchemaError(f"{what} must be a number", element)
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise SchemaError(f"{what} must be a number, not {value!r}", element) from None
    if not d.is_finite():
        raise SchemaError(f"{what} must be a finite number", element)
    return d


def _int(value, what: str, element) -> int | None:
    d = _number(value, what, element)
    if d is None:
        return None
    if d != d.to_integral_value() or d < 0 or d > 10_000_000:
        raise SchemaError(f"{what} must be a whole number between 0 and 10000000", element)
    return int(d)


def _flag(value, what: str, element) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise SchemaError(f"{what} must be true or false (expressions are not supported)", element)
    return value


def _field(comp: dict, element: str) -> Field:
    ctype = comp["type"]
    key = comp.get("key")
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise SchemaError(f"key {key!r} must be a name (letters, digits, _; at most 64; no dotted paths)", element)
    props = _props(comp)
    v = comp.get("validate") or {}
    if not isinstance(v, dict):
        raise SchemaError("validate must be an object", element)
    unknown = sorted(set(v) - VALIDATE_KEYS)
    if unknown:
        raise SchemaError(f"validate.{unknown[0]} is not supported", element)
    pattern = _str(v.get("pattern"), "validate.pattern", element) or None
    if pattern is not None:
        if len(pattern) > 500:
            raise SchemaError("validate.pattern is longer than 500 characters", element)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SchemaError(f"validate.pattern does not compile: {exc}", element) from None
    vtype = v.get("validationType") or None
    if vtype not in (None, "email", "phone"):
        raise SchemaError(f"validate.validationType {vtype!r} is not supported (email, phone)", element)
    options: list[Option] = []
    if ctype in OPTION_TYPES:
        if comp.get("valuesKey") is not None or comp.get("valuesExpression") is not None:
            raise SchemaError("options must be listed in the form (values), not taken from data", element)
        values = comp.get("values")
        if not isinstance(values, list) or not values or len(values) > MAX_OPTIONS:
            raise SchemaError(f"values must list 1 to {MAX_OPTIONS} options", element)
        seen = set()
        for opt in values:
            if not isinstance(opt, dict) or not isinstance(opt.get("value"), (str, int)) or isinstance(opt.get("value"), bool):
                raise SchemaError("each option needs a value (text or whole number) and a label", element)
            value = str(opt["value"])
            if value in seen or not value or len(value) > 200:
                raise SchemaError(f"option value {value!r} is empty, too long or repeated", element)
            seen.add(value)
            label = _str(opt.get("label"), "option label", element) or value
            options.append(Option(value, label, _str(props.get(f"label_en:{value}"), "label_en", element)))
    subtype = comp.get("subtype") or "date"
    if ctype == "datetime" and subtype not in DATETIME_SUBTYPES:
        raise SchemaError(f"subtype {subtype!r} is not supported", element)
    money = props.get("money") in ("true", True)
    if money and ctype != "number":
        raise SchemaError("properties.money marks number fields only", element)
    digits = _int(comp.get("decimalDigits"), "decimalDigits", element)
    if money and digits is not None and digits > 2:
        raise SchemaError("a money field has at most 2 decimal digits (fen)", element)
    max_length = _int(v.get("maxLength"), "validate.maxLength", element)
    if ctype in DEFAULT_MAX_LENGTH and max_length is None:
        max_length = DEFAULT_MAX_LENGTH[ctype]
    return Field(
        id=element, key=key, type=ctype,
        label=_str(comp.get("label") or comp.get("dateLabel"), "label", element) or key,
        label_en=_str(props.get("label_en"), "label_en", element),
        description=_str(comp.get("description"), "description", element),
        description_en=_str(props.get("description_en"), "description_en", element),
        required=_flag(v.get("required"), "validate.required", element),
        min=_number(v.get("min"), "validate.min", element), max=_number(v.get("max"), "validate.max", element),
        min_length=_int(v.get("minLength"), "validate.minLength", element), max_length=max_length,
        pattern=pattern,
        pattern_message=_str(v.get("patternErrorMessage"), "validate.patternErrorMessage", element),
        pattern_message_en=_str(props.get("patternErrorMessage_en"), "patternErrorMessage_en", element),
        validation_type=vtype, options=tuple(options), subtype=subtype, money=money,
        decimal_digits=(2 if money and digits is None else digits),
        disallow_past=_flag(comp.get("disallowPassedDates"), "disallowPassedDates", element),
        default=comp.get("defaultValue"),
        ignored=_flag(comp.get("readonly"), "readonly", element) or _flag(comp.get("disabled"), "disabled", element),
    )


def _walk(components, depth: int, ids: set, keys: set, counter: list) -> list[Block]:
    if not isinstance(components, list):
        raise SchemaError("components must be a list")
    if depth > MAX_DEPTH:
        raise SchemaError(f"groups are nested deeper than {MAX_DEPTH}")
    blocks = []
    for comp in components:
        counter[0] += 1
        if counter[0] > MAX_COMPONENTS:
            raise SchemaError(f"more than {MAX_COMPONENTS} components")
        if not isinstance(comp, dict):
            raise SchemaError("a component must be an object")
        element = comp.get("id")
        if not isinstance(element, str) or not FORM_ID_RE.match(element) or element in ids:
            raise SchemaError(f"component id {element!r} is missing, malformed or repeated", str(element))
        ids.add(element)
        ctype = comp.get("type")
        if ctype not in INPUT_TYPES | LAYOUT_TYPES:
            raise SchemaError(f"component type {ctype!r} is not supported here (supported: "
                              f"{', '.join(sorted(INPUT_TYPES | LAYOUT_TYPES - {'default'}))})", element)
        unknown = sorted(set(comp) - COMPONENT_KEYS)
        if unknown:
            raise SchemaError(f"property {unknown[0]!r} is not supported{_HINTS.get(unknown[0], '')}", element)
        props = _props(comp)
        if not all(isinstance(k, str) and isinstance(val, str) and len(val) <= 2000 for k, val in props.items()):
            raise SchemaError("custom properties must be text", element)
        if ctype in INPUT_TYPES:
            f = _field(comp, element)
            if f.key in keys:
                raise SchemaError(f"key {f.key!r} is used twice", element)
            keys.add(f.key)
            blocks.append(Block("field", field=f))
        elif ctype == "group":
            blocks.append(Block("group", text=_str(comp.get("label"), "label", element),
                                text_en=_str(props.get("label_en"), "label_en", element),
                                children=_walk(comp.get("components") or [], depth + 1, ids, keys, counter)))
        elif ctype == "text":
            blocks.append(Block("text", text=_str(comp.get("text"), "text", element),
                                text_en=_str(props.get("text_en"), "text_en", element)))
        elif ctype == "button" and comp.get("action") not in (None, "submit", "reset"):
            raise SchemaError(f"button action {comp.get('action')!r} is not supported", element)
    return blocks


@dataclass
class FormSchema:
    form_id: str
    raw: dict
    blocks: list[Block]
    fields: list[Field] = dc_field(default_factory=list)


def parse(text: str | bytes) -> FormSchema:
    """Parse and check a form file; raises :class:`SchemaError` naming the component."""
    if isinstance(text, bytes):
        if len(text) > MAX_SCHEMA_BYTES:
            raise SchemaError(f"the file is larger than {MAX_SCHEMA_BYTES // 1024} KB")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise SchemaError("the file is not UTF-8 text") from None
    if len(text) > MAX_SCHEMA_BYTES:
        raise SchemaError(f"the file is larger than {MAX_SCHEMA_BYTES // 1024} KB")
    try:
        raw = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(SchemaError(f"{c} is not JSON")))
    except json.JSONDecodeError as exc:
        raise SchemaError(f"not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise SchemaError("a form file holds one JSON object")
    form_id = raw.get("id")
    if not isinstance(form_id, str) or not FORM_ID_RE.match(form_id):
        raise SchemaError(f"the form's id {form_id!r} is missing or malformed (it is the form key a diagram names)")
    if raw.get("type", "default") != "default":
        raise SchemaError("the form's type must be \"default\"")
    unknown = sorted(set(raw) - FORM_KEYS)
    if unknown:
        raise SchemaError(f"form property {unknown[0]!r} is not supported")
    blocks = _walk(raw.get("components") or [], 0, {form_id}, set(), [0])
    fields = list(iter_fields(blocks))
    if not fields:
        raise SchemaError("the form has no input field")
    return FormSchema(form_id, raw, blocks, fields)


def iter_fields(blocks):
    for b in blocks:
        if b.kind == "field":
            yield b.field
        elif b.kind == "group":
            yield from iter_fields(b.children)


def canonical(raw: dict) -> str:
    """The schema as stored and hashed: key order and whitespace do not make a new version."""
    return json.dumps(raw, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def localized(raw: dict, locale: str) -> dict:
    """The schema for the viewer in ``locale``: English texts from ``properties`` when asked for, no buttons
    (the page has its own submit button), money fields as text with two decimals and not below zero."""
    out = copy.deepcopy(raw)
    en = locale == "en"

    def fix(components):
        kept = []
        for comp in components:
            if comp.get("type") == "button":
                continue
            props = _props(comp)
            if en:
                for name in ("label", "description", "text", "dateLabel"):
                    if props.get(f"{name}_en") and name in comp:
                        comp[name] = props[f"{name}_en"]
                if props.get("label_en") and comp.get("type") == "datetime":
                    comp["dateLabel"] = props["label_en"]
                for opt in comp.get("values") or []:
                    label = props.get(f"label_en:{opt.get('value')}")
                    if label:
                        opt["label"] = label
                v = comp.get("validate") or {}
                if props.get("patternErrorMessage_en") and "patternErrorMessage" in v:
                    v["patternErrorMessage"] = props["patternErrorMessage_en"]
            if comp.get("type") == "number" and props.get("money") in ("true", True):
                comp["serializeToString"] = True
                comp.setdefault("decimalDigits", 2)
                comp.setdefault("validate", {}).setdefault("min", 0)
            if comp.get("type") == "group":
                comp["components"] = fix(comp.get("components") or [])
            kept.append(comp)
        return kept

    out["components"] = fix(out.get("components") or [])
    return out
