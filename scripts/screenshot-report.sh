#!/usr/bin/env bash
# Trains a small Matryoshka SAE on MNIST pixels, writes its HTML report, and takes a headless
# Chromium screenshot of it, so that someone can look at the page without a browser session.
#
#   scripts/screenshot-report.sh [OUT_DIR] [--hidden]
#
# OUT_DIR (default /tmp/nestlab-report) receives the checkpoint, report.html and report.png.
# Needs Debian's chromium (apt-get install -y chromium). The training is small (about half a
# minute on 2 cores) and resumes from a checkpoint already in OUT_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-/tmp/nestlab-report}"
HIDDEN=false
if [[ "${2:-}" == "--hidden" ]]; then HIDDEN=true; fi
CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z "$CHROMIUM" ]]; then
  echo "screenshot-report: chromium not found (apt-get install -y chromium)" >&2
  exit 1
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
export NESTLAB_PROGRESS="${NESTLAB_PROGRESS:-lines}"
npx tsx -e "
import('./src/workflows/mnist-sae.ts').then(async (r) => {
  const { defaultProgress } = await import('./src/backend/progress.ts');
  const t = await r.trainMnistSae({ out: '$OUT/checkpoint', hidden: $HIDDEN, progress: defaultProgress() });
  for (const m of t.metrics) console.log('prefix ' + m.prefix + ': explained variance ' + m.explainedVariance.toFixed(3) + ', L0 ' + m.l0.toFixed(2) + ', dead ' + m.deadFraction.toFixed(3));
  const rep = await r.reportFromCheckpoint('$OUT/checkpoint', { data: 'mnist', out: '$OUT/report.html' });
  console.log('report: ' + rep.path + ' (' + rep.latents + ' latent cards, ' + rep.seconds.toFixed(1) + ' s)');
}).catch((e) => { console.error(e); process.exit(1); });
"
PROFILE="$(mktemp -d)"
"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$PROFILE" \
  --screenshot="$OUT/report.png" --window-size=1400,3000 "file://$OUT/report.html" 2>/dev/null
rm -rf "$PROFILE"
echo "screenshot: $OUT/report.png"
