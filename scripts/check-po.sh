#!/bin/sh
# Fails when a translation in po/LINGUAS misses or fuzzes a message that the
# sources in po/POTFILES mark for translation.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$top"
xgettext --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 --from-code=UTF-8 \
    --files-from=po/POTFILES -o "$tmp/qmgrd.pot"
status=0
for lang in $(cat po/LINGUAS); do
    msgmerge --quiet --no-fuzzy-matching -o "$tmp/$lang.po" "po/$lang.po" "$tmp/qmgrd.pot"
    stats=$(LC_ALL=C msgfmt --statistics -o /dev/null "$tmp/$lang.po" 2>&1)
    echo "$lang: $stats"
    case "$stats" in
        *untranslated*|*fuzzy*) status=1 ;;
    esac
done
exit $status
