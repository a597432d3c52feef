#!/usr/bin/env bash
# The whole test suite: type-check and build, then vitest (unit tests, figures at smoke size,
# the CLI, and every notebook executed headless on the tslab kernel). The last line is
# "tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
npx --no-install tsc -p tsconfig.json --noEmit
npm run build --silent
# The kernel must start from this checkout (a clone elsewhere registers its own path).
if command -v jupyter >/dev/null 2>&1; then
  npx --no-install tslab install --python=/usr/bin/python3 --binary="$PWD/node_modules/.bin/tslab" >/dev/null 2>&1 || true
fi
npx --no-install vitest run "$@"
