#!/usr/bin/env bash
# The HTML reports in a real browser: headless Chromium (Debian's package,
# installed here when missing) renders the check and diff pages of the README's
# examples to PNG and dumps their DOM; tests/browser/check_pages.py checks the
# renderings are not blank and the transition matrix's counts are on the page.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (Debian's package)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

cargo build --locked --quiet
bin=target/debug/kycrules
out=target/browser-test
rm -rf "$out" && mkdir -p "$out"

as_of=2026-11-27
diff_args=(diff rules examples/policy-change/rules examples/applications --as-of "$as_of")
# Every command exits 2: two example records are broken on purpose.
run() { "$bin" "$@" 2>>"$out/stderr.txt" || [ $? -eq 2 ]; }
run "${diff_args[@]}" --format html > "$out/impact.html"
run "${diff_args[@]}" --format json > "$out/impact.json"
run "${diff_args[@]}" --format html --lang zh > "$out/impact-zh.html"
run check examples/applications --format html --as-of "$as_of" > "$out/report.html"

browser() {
  # Flags for a closed network and a root user: no sandbox, no background traffic.
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d)" --hide-scrollbars "$@" 2>/dev/null
}

python3 tests/browser/check_pages.py selftest
for page in impact impact-zh report; do
  browser --window-size=1100,1600 --screenshot="$out/$page.png" "file://$PWD/$out/$page.html" >/dev/null
  browser --dump-dom "file://$PWD/$out/$page.html" > "$out/$page.dom.html"
  python3 tests/browser/check_pages.py png "$out/$page.png"
done
python3 tests/browser/check_pages.py matrix "$out/impact.dom.html" "$out/impact.json"
python3 tests/browser/check_pages.py matrix "$out/impact-zh.dom.html" "$out/impact.json"
echo "browser: 3 pages rendered and checked"
