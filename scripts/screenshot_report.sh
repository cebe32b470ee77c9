#!/usr/bin/env bash
# Render an HTML report the way a person sees it: headless Chromium (Debian's `chromium` package) -> PNG.
#   scripts/screenshot_report.sh data/report.html docs/report.png
set -euo pipefail
html=${1:-data/report.html}
png=${2:-docs/report.png}
command -v chromium >/dev/null || { echo "install Debian's chromium first: apt-get install chromium" >&2; exit 2; }
mkdir -p "$(dirname "$png")"
profile=$(mktemp -d)
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
  --window-size=1100,2600 --screenshot="$png" "file://$(realpath "$html")" 2>/dev/null
rm -rf "$profile"
echo "$png"
