#!/usr/bin/env bash
# End-to-end test of `kycrules lsp` with a real client: Neovim, headless,
# attaches the server to a `.rules` file with an unknown field and reads the
# diagnostics back. Installs Debian's neovim when it is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v nvim >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq neovim >/dev/null
fi
cargo build --locked --quiet --bin kycrules

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp tests/fixtures/lsp/wallet/*.rules "$work/"
sed -i 's/when age < 18/when agee < 18/' "$work/10-rules.rules"

KYC_BIN="$PWD/target/debug/kycrules" KYC_FILE="$work/10-rules.rules" KYC_OUT="$work/out.txt" \
  timeout 120 nvim --headless -u NONE -i NONE -n -c "luafile tests/editors/nvim-diagnostics.lua" >/dev/null 2>&1 || true

expected='14:8 1 E0020 unknown field `agee`: not in the schema'
if [ ! -f "$work/out.txt" ] || [ "$(cat "$work/out.txt")" != "$expected" ]; then
  echo "40-editor: Neovim did not read the expected diagnostics" >&2
  echo "expected: $expected" >&2
  echo "got:      $(cat "$work/out.txt" 2>/dev/null || echo '(nothing)')" >&2
  exit 1
fi
echo "40-editor: Neovim received the server's diagnostics"
