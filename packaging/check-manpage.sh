#!/usr/bin/env bash
# Fails when an option that `loopdeck [COMMAND] --help` prints is not documented in the man
# page, so that a new flag cannot ship undocumented. Run by ctest (packaging/manpage) and by
# scripts/package-check.sh.
#   packaging/check-manpage.sh path/to/loopdeck packaging/loopdeck.1
set -euo pipefail
binary=$1
manpage=$2

# The roff source with its escaped hyphens ("\-\-port") read as plain ones.
documented=$(zcat -f "$manpage" | sed 's/\\-/-/g')
missing=0
for command in "" projects model serve loop demo; do
  # shellcheck disable=SC2086 # an empty $command means the top level
  help=$(QT_QPA_PLATFORM=offscreen "$binary" $command --help 2>&1) || {
    echo "check-manpage: 'loopdeck $command --help' failed" >&2; exit 1; }
  for option in $(grep -oE -- '(^|[^a-z-])--[a-z][a-z0-9-]*' <<<"$help" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
    if ! grep -qE -- "(^|[^a-z0-9-])${option}([^a-z0-9-]|$)" <<<"$documented"; then
      echo "check-manpage: '${command:-loopdeck}' option $option is not in $manpage" >&2
      missing=1
    fi
  done
done
# groff must format it without warnings (lintian checks the same).
if command -v man >/dev/null; then
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$manpage" 2>&1 >/dev/null || true)
  if [ -n "$warnings" ]; then
    echo "check-manpage: groff warnings in $manpage:" >&2
    echo "$warnings" >&2
    missing=1
  fi
fi
[ $missing = 0 ] && echo "check-manpage: every option of loopdeck's --help is in $(basename "$manpage")"
exit $missing
