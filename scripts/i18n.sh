#!/usr/bin/env bash
# Translations: extract every msgid, merge it into the English catalog, compile.
#   scripts/i18n.sh            extract + update + compile
#   scripts/i18n.sh compile    compile only (what scripts/install.sh does)
# Chinese is the source language (the msgids); translations/en/LC_MESSAGES/messages.po holds English.
# babel.cfg says what is scanned: app/ and forms/ (_, _l, lazy_gettext, pgettext, N_), templates/
# ({{ _('…') }}), and the BPMN diagrams (user-task names). New msgids arrive with an empty msgstr and
# are listed at the end: translate them, then run this again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=.venv/bin/pybabel
[ -x "$PYBABEL" ] || PYBABEL=pybabel
PO=translations/en/LC_MESSAGES/messages.po
if [ "${1:-}" != "compile" ]; then
  "$PYBABEL" -q extract -F babel.cfg -k _l -k lazy_gettext -k pgettext:1c,2 -k N_ \
    --no-wrap --sort-by-file --add-location=file --project=zengxin --version=0.1.0 \
    --copyright-holder="zengxin contributors" -o translations/messages.pot .
  if [ -f "$PO" ]; then
    # no fuzzy matching: a changed msgid comes back empty rather than with a near-miss translation
    "$PYBABEL" -q update --no-wrap --no-fuzzy-matching --ignore-obsolete \
      -i translations/messages.pot -d translations -l en
  else
    "$PYBABEL" -q init --no-wrap -i translations/messages.pot -d translations -l en
  fi
  .venv/bin/python - "$PO" <<'PY'
import sys
from babel.messages.pofile import read_po
with open(sys.argv[1], "rb") as f:
    cat = read_po(f)
ids = [m for m in cat if m.id]
missing = [m for m in ids if not m.string or m.fuzzy]
print(f"{sys.argv[1]}: {len(ids)} msgids, {len(missing)} untranslated")
for m in missing:
    print("  untranslated:", m.id if isinstance(m.id, str) else m.id[0])
PY
fi
"$PYBABEL" -q compile -d translations
