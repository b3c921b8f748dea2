#!/usr/bin/env bash
# Copies the PNG screenshots that the GUI tests saved in a build tree into docs/screenshots/,
# where README.md shows them. Run after `scripts/quickstart.sh test` (or ctest -L gui).
#   scripts/update-screenshots.sh [BUILD_DIR]   (default: build/asan)
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-build/asan}/screenshots
if ! ls "$src"/*.png >/dev/null 2>&1; then
  echo "no screenshots in $src; run the GUI tests first (ctest -L gui)" >&2
  exit 1
fi
mkdir -p docs/screenshots
cp "$src"/*.png docs/screenshots/
ls docs/screenshots
