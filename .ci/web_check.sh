#!/usr/bin/env bash
# The browser package (web/): Chromium from Debian's packages where missing, the npm
# dependencies from web/package-lock.json, the default model's step exported to ONNX and the
# reference motion computed with the installed gazehead_rt (.venv-test, from the README's test
# command), then the browser tests (web/test/run.mjs: parity with gazehead_rt.Generator, the
# demo page's pointer response, a non-blank screenshot, no console errors).
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=$([ "$(id -u)" = 0 ] || echo sudo)
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "::: web: $(/usr/bin/chromium --version 2>/dev/null), node $(node --version)"

(cd web && npm ci --no-audit --no-fund --loglevel=error)

# never a stale file: the default model may have changed since the last run
mkdir -p web/build
rm -f web/build/step.onnx web/build/reference.json
.venv-test/bin/gazehead-rt export-onnx -o web/build/step.onnx
.venv-test/bin/python web/test/make_reference.py -o web/build/reference.json

(cd web && node test/run.mjs)
