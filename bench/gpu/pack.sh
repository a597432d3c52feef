#!/usr/bin/env bash
# Builds .gpu-kit/ (git-ignored): everything bench/gpu/run.sh needs on the lent GPU machine, which
# has no network and no Node.js. Run it here after `bash scripts/setup.sh`; then pass
# carry: [".gpu-kit"] to the device tool and run `bash bench/gpu/run.sh` there.
#   node.xz                    this machine's node binary, xz-compressed (~24 MB)
#   gpu-check.mjs              bench/gpu/check.ts bundled with nestlab and tfjs (one copy of tfjs-core)
#   wasm/*.wasm                tfjs-backend-wasm's binaries (the CPU reference backend of the parity checks)
#   node_modules/webgpu/       Dawn's node binding; dawn.node xz-compressed (~21 MB raw)
#   peers/*.py                 the PyTorch peers (torch is on the GPU machine)
#   gl/libvulkan1*.deb         the Vulkan loader, which the GPU image lacks (device README)
# The travelling tree is capped at 64 MiB: the script fails if the kit is larger than 56 MiB.
set -euo pipefail
cd "$(dirname "$0")/../.."
kit=.gpu-kit
rm -rf "$kit"
mkdir -p "$kit/wasm" "$kit/peers" "$kit/gl" "$kit/node_modules/webgpu/dist/linux-x64"

echo "== node $(node --version) binary"
xz -T2 -6 -c "$(command -v node)" > "$kit/node.xz"

echo "== bundle bench/gpu/check.ts"
# webgpu stays external (a native addon); nblas too (no BLAS there: the wasm reference runs on
# XNNPACK); the tensorflow packages are optional and absent.
# --main-fields=main resolves every package as Node does (its CommonJS build): mixing the ESM and
# CJS builds of tfjs-core would load two engines. The banner gives CommonJS code require/__dirname.
node_modules/.bin/esbuild bench/gpu/check.ts --bundle --platform=node --format=esm --target=node20 \
  --main-fields=main --outfile="$kit/gpu-check.mjs" --log-level=warning \
  --external:webgpu --external:nblas --external:@tensorflow/tfjs-node-gpu --external:@tensorflow/tfjs-node \
  --banner:js="import { createRequire as __nlReq } from 'node:module'; import { fileURLToPath as __nlPath } from 'node:url'; import { dirname as __nlDir } from 'node:path'; const require = __nlReq(import.meta.url); const __filename = __nlPath(import.meta.url); const __dirname = __nlDir(__filename);"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$kit/wasm/"

echo "== Dawn (webgpu $(node -p "require('./node_modules/webgpu/package.json').version"))"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$kit/node_modules/webgpu/"
xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$kit/node_modules/webgpu/dist/linux-x64/dawn.node.xz"

cp bench/peers/sae_torch.py bench/peers/rdm_torch.py "$kit/peers/"

echo "== Vulkan loader (Debian's libvulkan1, amd64)"
lists=$(mktemp -d)
mkdir -p "$lists/partial"
o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists="$lists")
apt-get "${o[@]}" update -qq
(cd "$kit/gl" && apt-get "${o[@]}" download libvulkan1 >/dev/null)
rm -rf "$lists"

bytes=$(du -sb "$kit" | cut -f1)
echo "== $kit: $((bytes / 1024 / 1024)) MiB"
if [ "$bytes" -gt $((56 * 1024 * 1024)) ]; then
  echo "pack.sh: the kit is over 56 MiB; the device tool carries at most 64 MiB with the repository" >&2
  exit 1
fi
