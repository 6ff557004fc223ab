"""Known Python-jail escapes and cost bombs, each with a fragment its refusal must name.

Shared by the unit tests (``evaluate`` and ``execute``) and the SpiffWorkflow run (script task and
gateway condition).  ``zx_probe`` is a registered helper defined in a module whose globals hold
:data:`SECRET`: reaching its ``__globals__`` is the escape issue 9 reported.
"""
SECRET = "zx-secret-7f3a9c"
SECRET_KEY = SECRET   # what an escape through zx_probe.__globals__ would read


def zx_probe(value=None):
    return value


_FW_UNDERSCORE = "\uff3f"        # FULLWIDTH LOW LINE: NFKC gives "_", but it may not appear in a name
_VERTICAL_LOW_LINE = "\ufe33"    # PRESENTATION FORM FOR VERTICAL LOW LINE: NFKC "_", allowed after the 1st letter

ESCAPES = [
    # --- issue 9: a match class pattern binds str.format without an Attribute node
    ('match "{0.__globals__[SECRET_KEY]}":\n    case str(format=f):\n        x = f(zx_probe)\n', "match"),
    ('match zx_probe:\n    case object(__globals__=g):\n        x = g["SECRET_KEY"]\n', "match"),
    ('match 1:\n    case int(real=r):\n        x = r\n', "match"),
    ('match xs:\n    case [*rest]:\n        x = rest\n', "match"),
    ('"{0.__globals__[SECRET_KEY]}".format(zx_probe)', "format"),
    ('"{0.__globals__}".format_map({})', "format_map"),
    ('"{}".format(1)', "format"),
    ('format(zx_probe, "")', "format"),
    # --- dunder walks
    ("().__class__.__base__.__subclasses__()", "__subclasses__"),
    ("[c for c in ().__class__.__mro__[1].__subclasses__()]", "__subclasses__"),
    ("().__class__", "__class__"),
    ("zx_probe.__globals__", "__globals__"),
    ("zx_probe.__code__", "__code__"),
    ("().__reduce_ex__(2)", "__reduce_ex__"),
    ("x.__reduce__()", "__reduce__"),
    ("__import__('os').system('true')", "__import__"),
    ("_os.system('true')", "_os"),
    ("__builtins__", "__builtins__"),
    ("x.real", "real"),
    ("d.keys().mapping", "mapping"),
    # --- frames through generators
    ("(y for y in xs).gi_frame", "gi_frame"),
    ("(y for y in xs).gi_frame.f_globals", "f_globals"),
    ("(y for y in xs).gi_frame.f_back.f_globals", "f_globals"),
    ("[g for g in [(y for y in xs)]][0].gi_code", "gi_code"),
    ("[x for x in (yield)]", "yield"),
    ("next(iter(xs))", "next"),
    # --- introspection builtins
    ("vars()", "vars"), ("globals()", "globals"), ("locals()", "locals"), ("dir()", "dir"),
    ("type(1)", "type"), ("object()", "object"), ("getattr(zx_probe, '__globals__')", "getattr"),
    ("getattr(str, 'format')('{0.__class__}', 1)", "getattr"),
    ("setattr(x, 'y', 1)", "setattr"), ("eval('1')", "eval"), ("exec('1')", "exec"),
    ("compile('1', '', 'eval')", "compile"), ("open('/etc/passwd').read()", "open"),
    ("breakpoint()", "breakpoint"), ("print(1)", "print"), ("help()", "help"), ("id(x)", "id"),
    ("isinstance(x, int)", "isinstance"), ("super()", "super"), ("memoryview(b'')", "bytes"),
    # --- calling what is not a helper or an allowed builtin
    ("d.get.__self__", "__self__"),
    ("zx_probe.get(1)", "'get' is not allowed on a function"),
    ("s.lower()", "'lower' is not allowed on a EvilStr"),
    ("f(1)", "calling a str"),
    # --- definitions, decorators, classes, lambdas
    ("@zx_probe\ndef f():\n    pass\n", "decorator"),
    ("@zx_probe\nclass C:\n    pass\n", "decorator"),
    ("def f():\n    return 1\n", "def"),
    ("class C:\n    pass\n", "class"),
    ("(lambda: 1)()", "lambda"),
    ("sorted(xs, key=lambda v: v)", "lambda"),
    # --- exception handling (exception objects and groups)
    ("try:\n    pass\nexcept* Exception as e:\n    x = e\n", "except*"),
    ("try:\n    1 / 0\nexcept Exception as e:\n    x = e\n", "try/except"),
    ("raise SystemExit", "raise"),
    ("assert False", "assert"),
    # --- f-string walks and format specs
    ("f'{x.__class__}'", "__class__"),
    ("f'{x!r:{y}}'", "!r"),
    ("f'{x:{y}}'", "format spec"),
    ("f'{zx_probe}'", "f-string may only show"),
    ("f'{xs}'", "f-string may only show"),
    ("f'{x:>1000000000}'", "format spec"),
    ("f'{d!s}'", "!s"),
    # --- unicode-normalised identifiers (Python applies NFKC to identifiers)
    ("\uff45val('1')", "eval"),                       # ｅval
    ("\uff4fpen('/etc/passwd')", "open"),             # ｏpen
    ("\uff47etattr(x, 'y')", "getattr"),              # ｇetattr
    (f"x.{_FW_UNDERSCORE * 2}class{_FW_UNDERSCORE * 2}", "U+FF3F"),     # not an identifier at all
    (f"_{_VERTICAL_LOW_LINE}import{_VERTICAL_LOW_LINE * 2}('os')", "__import__"),
    (f"x._{_VERTICAL_LOW_LINE}class{_VERTICAL_LOW_LINE * 2}", "__class__"),
    (f"zx_probe._{_VERTICAL_LOW_LINE}globals{_VERTICAL_LOW_LINE * 2}", "__globals__"),
    ("'{0}'.\uff46ormat(1)", "format"),               # .ｆormat
    ("\U0001d41e\U0001d42f\U0001d41a\U0001d425('1')", "eval"),  # mathematical bold 𝐞𝐯𝐚𝐥
    # --- starred and unpacking tricks, walrus
    ("zx_probe(*xs)", "starred"),
    ("zx_probe(**d)", "**x"),
    ("[*xs]", "starred"),
    ("{**d}", "{**x}"),
    ("a, *b = xs", "starred"),
    ("(y := 1)", ":="),
    ("[y := v for v in xs]", ":="),
    ("zx_probe(_x=1)", "_x"),
    # --- bytes and %-formatting
    ("b'%s' % x", "bytes"),
    ("'%s' % zx_probe", "%-formatting"),
    ("'%(a)s' % d", "%-formatting"),
    ("'%1000000000s' % 'a'", "%-formatting"),
    # --- other statements
    ("import os", "import"), ("from os import system", "import"), ("global x", "global"),
    ("with zx_probe() as f:\n    pass\n", "with"), ("del x", "del"), ("while True:\n    pass\n", "while"),
    ("for x in xs:\n    x.y = 1\n", "attribute"),
    ("async def f():\n    pass\n", "async"),
    ("...", "Ellipsis"),
    ("1j", "complex"),
    # --- cost bombs
    ("10 ** 10 ** 8", "would exceed"),
    ("2 ** 100000", "would exceed"),
    ("'a' * 10 ** 9", "exceed 100000 elements"),
    ("[0] * 10 ** 9", "exceed 100000 elements"),
    ("(0,) * 10 ** 9", "exceed 100000 elements"),
    ("1 << 10 ** 8", "exceed"),
    ("range(10 ** 9)", "range()"),
    ("sum(range(10 ** 9))", "range()"),
    ("sorted(range(10 ** 9))", "range()"),
    ("str(7 ** 2000)", "would exceed"),
    ("int('9' * 10 ** 6)", "exceed"),
    ("int('9' * 5000)", "int() of a text"),
    ("Decimal('9' * 5000)", "Decimal() of a text"),
    ("int(Decimal('1e999999'))", "int() of a Decimal"),
    ("f'{Decimal(\"1e999999\"):f}'", "Decimal with exponent"),
    ("round(5, -10 ** 18)", "round()"),
    ("9 ** 9 ** 9", "would exceed"),
    ("[[0] * 100000] * 100000 == [[0] * 100000] * 100000", "too costly"),
    ("len([[0] * 100000] * 100000 + [[1] * 100000] * 100000)", "100000"),
    ("max([list(range(100000))] * 100000)", "too costly"),
    ("{((0,) * 100000,) * 100000: 1}", "too costly"),
    ("sum(1 for a in range(100000) for b in range(100000))", "100000"),
    ("any(a < 0 for a in range(100000) for b in range(100000))", "too costly"),
    ("for a in range(100000):\n    for b in range(100000):\n        pass\n", "too costly"),
    ("'-'.join(['x' * 100000] * 100000)", "too costly"),
    ("sum([[1]], [])", "sum() adds numbers only"),
    ("(" * 1000 + "1" + ")" * 1000, "nested"),
    ("[" * 1000 + "]" * 1000, "nested"),
    ("-" * 5000 + "1", "nested"),
    ("not " * 2000 + "x", "nested"),
    ("1" + "+1" * 3000, "nested"),
    ("x = 1\n" * 1000, "too large"),
    ("x" * 20000, "too long"),
]

# What the diagrams in bpmn/ and the registered helpers must keep doing.
GOOD = [
    ("dept_decision == 'recommend'", {"dept_decision": "recommend"}, True),
    ("advance_requested != True", {"advance_requested": False}, True),
    ("joint_review_outcome(review_decisions, joint_meeting_rule, len(joint_members)) == 'pass' "
     "and payout_positive == True",
     {"review_decisions": ["approve", "approve"], "joint_meeting_rule": "all",
      "joint_members": [1, 2], "payout_positive": True}, True),
    ("data.get('k', 0) + len(items)", {"data": {"k": 2}, "items": [1, 2]}, 4),
    ("1 < n <= 3", {"n": 3}, True),
    ("n if n > 2 else -n", {"n": 1}, -1),
    ("sorted(xs, reverse=True)[0]", {"xs": [3, 9, 4]}, 9),
    ("sum(v for v in xs if v > 3)", {"xs": [3, 9, 4]}, 13),
    ("{k: v * 2 for k, v in d.items()}", {"d": {"a": 1}}, {"a": 2}),
    ("[v for v in xs][1:]", {"xs": [1, 2, 3]}, [2, 3]),
    ("max(xs, key=abs)", {"xs": [-7, 3]}, -7),
    ("f'{name}: {amount:,.2f}'", {"name": "甲", "amount": 1234.5}, "甲: 1,234.50"),
    ("' '.join([s.strip().upper() for s in words])", {"words": [" a", "b "]}, "A B"),
    ("'x' in tags and len(tags) < 5", {"tags": ["x"]}, True),
    ("2 ** 64 + 10 ** 20", {}, 2 ** 64 + 10 ** 20),
    ("'ab' * 3", {}, "ababab"),
    ("int('42') + int(Decimal('1.9'))", {}, 43),
    ("str(Decimal('1.50'))", {}, "1.50"),
    ("list(range(3)) + [v for i, v in enumerate(xs)]", {"xs": [7]}, [0, 1, 2, 7]),
    ("round_fen(Decimal('10.005'), 'half_up')", {}, "10.01"),
    ("round_fen(Decimal('10.005'), 'down')", {}, "10.00"),
    ("round_fen(Decimal('10.005'), 'half_even')", {}, "10.00"),
    ("round_fen(yuan('100.00') * Decimal('0.35'), 'down')", {}, "35.00"),
    ("iso_date(add_days('2025-01-31', 30))", {}, "2025-03-02"),
    ("days_between(start, '2025-03-01')", {"start": "2025-02-01"}, 28),
    ("date_of('2025-03-01T01:00:00+08:00') < date_of('2025-03-02')", {}, True),
    ("date_of('2025-02-28T20:00:00+00:00')", {}, "2025-03-01"),   # Shanghai date
    ("add_days('2025-03-01', -1) == date_of('2025-02-28')", {}, True),
    ("date_of('2025-03-01').isoformat()", {}, "2025-03-01"),
]
