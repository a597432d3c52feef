#!/usr/bin/env bash
# Sets nestlab up on a fresh Debian 12 machine with Node 20 (npm registry and apt only):
# Debian's packages (Jupyter, headless Chromium, OpenBLAS), npm packages, the tslab kernel registered for this checkout,
# and the build. Idempotent: re-running it skips what is there.
#   --peers  also install the peers that cross-check tests and benchmarks compare against
#            (numpy, scipy, scikit-learn, ripser, gudhi); --bench adds PyTorch (CPU, large).
set -euo pipefail
cd "$(dirname "$0")/.."

want_peers=0
want_torch=0
for arg in "$@"; do
  case "$arg" in
    --peers) want_peers=1 ;;
    --bench) want_peers=1; want_torch=1 ;;
    *) echo "setup.sh: unknown option $arg (expected --peers or --bench)" >&2; exit 2 ;;
  esac
done

need=()
have_deb() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# libopenblas-dev: the BLAS that the optional nblas addon compiles against during npm ci below.
# chromium: headless, for the tests that check what nbconvert's HTML export of a chart looks like.
for p in jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client fonts-dejavu-core chromium libopenblas-dev; do
  have_deb "$p" || need+=("$p")
done
if [ "$want_peers" = 1 ]; then
  for p in python3-numpy python3-scipy python3-sklearn ripser python3-gudhi; do have_deb "$p" || need+=("$p"); done
fi
if [ "$want_torch" = 1 ]; then have_deb python3-torch || need+=(python3-torch); fi
if [ "${#need[@]}" -gt 0 ]; then
  echo "== Debian packages: ${need[*]}"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "== npm packages (npm ci; optional ones that cannot install are skipped: @tensorflow/tfjs-node-gpu,"
echo "   and nblas where no BLAS or compiler is found, which leaves matrix products on XNNPACK)"
npm ci --no-audit --no-fund

echo "== build (dist/) and the 'nestlab' self-link for notebooks"
npm run build --silent

echo "== tslab kernel for Jupyter, started from this checkout"
npx --no-install tslab install --python=/usr/bin/python3 --binary="$PWD/node_modules/.bin/tslab" 2>&1 | grep -v -E "frozen|PYDEVD|Debugg" || true
echo "== set-up done"
