#!/usr/bin/env bash
# Renders the app icon resources/icons/loopdeck.svg into the PNG sizes the hicolor icon theme
# and the packages use: resources/icons/hicolor/<N>x<N>/loopdeck.png for N in 48 128 256, and
# the Windows icon resources/icons/loopdeck.ico (16-256 px, for loopdeck.exe and the installer).
# They are committed; run this after changing the SVG (needs rsvg-convert from librsvg2-bin and
# icotool from icoutils: scripts/deps.sh --package).
#   scripts/render-icons.sh          write the PNGs
#   scripts/render-icons.sh --check  exit 1 if a committed PNG differs from a fresh render
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=(48 128 256)
SVG=resources/icons/loopdeck.svg
OUT=resources/icons/hicolor

check=0
[ "${1:-}" = "--check" ] && check=1
for tool in rsvg-convert icotool; do
  command -v $tool >/dev/null || { echo "render-icons: $tool is missing (scripts/deps.sh --package)" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for n in "${SIZES[@]}"; do
  rsvg-convert --width "$n" --height "$n" --keep-aspect-ratio --format png -o "$tmp/$n.png" "$SVG"
  target="$OUT/${n}x${n}/loopdeck.png"
  if [ $check = 1 ]; then
    if ! cmp -s "$tmp/$n.png" "$target"; then
      echo "render-icons: $target is missing or stale; run scripts/render-icons.sh" >&2
      status=1
    fi
  else
    mkdir -p "$(dirname "$target")"
    cp "$tmp/$n.png" "$target"
    echo "render-icons: wrote $target"
  fi
done
# Windows .ico: small sizes as bitmaps, 256 px as embedded PNG (-r), as Windows expects.
ico_sizes=(16 24 32 48 64)
for n in "${ico_sizes[@]}" 256; do
  rsvg-convert --width "$n" --height "$n" --keep-aspect-ratio --format png -o "$tmp/ico-$n.png" "$SVG"
done
ico_inputs=()
for n in "${ico_sizes[@]}"; do ico_inputs+=("$tmp/ico-$n.png"); done
icotool --create --output="$tmp/loopdeck.ico" "${ico_inputs[@]}" --raw="$tmp/ico-256.png"
ICO=resources/icons/loopdeck.ico
if [ $check = 1 ]; then
  cmp -s "$tmp/loopdeck.ico" "$ICO" || { echo "render-icons: $ICO is missing or stale; run scripts/render-icons.sh" >&2; status=1; }
else
  cp "$tmp/loopdeck.ico" "$ICO"
  echo "render-icons: wrote $ICO"
fi
exit $status
