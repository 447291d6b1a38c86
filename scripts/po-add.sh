#!/usr/bin/env bash
# Merge a snippet of Persian translations into the catalogue and compile it, under a lock, so
# that several people (or helpers) editing at once never overwrite each other's entries.
# Usage: scripts/po-add.sh snippet.po   (snippet: plain msgid/msgstr pairs, UTF-8, no header)
# Existing msgids keep their translation unless the snippet gives a non-empty one.
set -euo pipefail
cd "$(dirname "$0")/.."
snippet=$1
po=src/panjereh/locale/fa/LC_MESSAGES/django.po
exec 9>/tmp/panjereh-po.lock
flock 9
tmp=$(mktemp --suffix=.po)
{ printf 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'; cat "$snippet"; } > "$tmp"
msgcat --use-first --no-location --no-wrap -o "$po.new" "$tmp" "$po"
# msgcat puts the snippet's header first; keep the catalogue's own header.
python3 - "$po" "$po.new" <<'PY'
import sys, re
old, new = sys.argv[1], sys.argv[2]
head_old = open(old, encoding="utf-8").read().split("\n\n", 1)[0]
body_new = open(new, encoding="utf-8").read().split("\n\n", 1)[1]
open(old, "w", encoding="utf-8").write(head_old + "\n\n" + body_new)
PY
rm -f "$po.new" "$tmp"
msgfmt --check-format -o src/panjereh/locale/fa/LC_MESSAGES/django.mo "$po"
echo "merged $(grep -c '^msgid' "$snippet") entries into $po"
