#!/usr/bin/env bash
# Runs the GPU check (bench/gpu/check.ts) from the kit that bench/gpu/pack.sh built: on the lent GPU
# machine through the device tool, as
#   run(command: "bash bench/gpu/run.sh", carry: [".gpu-kit"])
# and writes $OUT/gpu-report.json (adapter, parity results, benchmark records vs PyTorch).
# Options: --size full|smoke (default full), --device cuda|cpu (the PyTorch peers; default cuda).
# NESTLAB_GPU_DRY=1 runs it on a machine without a GPU (Mesa's llvmpipe through Dawn's GL ES
# backend), to check the kit itself: nothing is unpacked into /.
set -euo pipefail
cd "$(dirname "$0")/../.."
kit="$PWD/.gpu-kit"
[ -f "$kit/gpu-check.mjs" ] || { echo "run.sh: $kit is missing: run bash bench/gpu/pack.sh first and carry .gpu-kit" >&2; exit 2; }
work=$(mktemp -d)
xz -dc "$kit/node.xz" > "$work/node"
chmod +x "$work/node"
dawn="$kit/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "$dawn" ] || xz -dc "$dawn.xz" > "$dawn"

if [ "${NESTLAB_GPU_DRY:-0}" = 1 ]; then
  export NESTLAB_DAWN_FLAGS=backend=opengles NESTLAB_WEBGPU_COMPAT=1 EGL_PLATFORM=surfaceless
else
  # The GPU image has no Vulkan loader: unpack Debian's (device README), then point it at NVIDIA's ICD.
  for f in "$kit"/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f "$icd" ] && export VK_DRIVER_FILES="$icd"
  nvidia-smi -L || true
fi
export NESTLAB_WASM_PATHS="$kit/wasm/" NESTLAB_PEER_PYTHON="${NESTLAB_PEER_PYTHON:-python3}"
"$work/node" --version
# The bundle re-registers tfjs' cpu/webgl kernels once more at load (harmless: same functions);
# those ~400 warning lines are dropped so that the report stays readable.
"$work/node" "$kit/gpu-check.mjs" --out "${OUT:-$PWD}" "$@" 2> >(grep -v -E "is already registered|already registered. Reusing|has already been set" >&2)
