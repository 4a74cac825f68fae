#!/usr/bin/env bash
# The release wheel as users get it: built by .ci/build_wheel.sh (manylinux_2_28 or older,
# CPU backend), checked by auditwheel, installed with binary-only dependencies (nothing is
# compiled at install time) in a fresh venv and run from outside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash .ci/build_wheel.sh "$work/wheelhouse"
wheel=$(ls "$work"/wheelhouse/*.whl)
ls -l "$work/wheelhouse"
build/release-env/bin/auditwheel show "$wheel"
# every manylinux tag of the file name is glibc 2.28 or older
python3 - "$wheel" <<'PY'
import os, re, sys
name = os.path.basename(sys.argv[1])
tags = re.findall(r"manylinux_(\d+)_(\d+)_x86_64", name)
assert tags and all((int(a), int(b)) <= (2, 28) for a, b in tags), f"not manylinux <= 2.28: {name}"
print(f"wheel {name}: {os.path.getsize(sys.argv[1]) / 1e6:.2f} MB")
PY
python3 -m venv "$work/run-env"
"$work/run-env/bin/pip" install -q --only-binary=:all: "$wheel"
cd "$work"
"$work/run-env/bin/pip" show -f gazehead_rt >"$work/files.txt"
"$work/run-env/bin/gazehead-rt" info
"$work/run-env/bin/python" - "$work/files.txt" <<'PY'
import json, os, subprocess, sys

import numpy as np

import gazehead_rt as gh

# one top-level package in site-packages: gazehead_rt (training/ is gazehead_rt.training)
files = open(sys.argv[1]).read().split("Files:", 1)[1].split()
top = {f.split("/")[0] for f in files if not f.startswith("..")}
assert {t for t in top if not t.endswith(".dist-info")} == {"gazehead_rt"}, top
assert "gazehead_rt/training/__init__.py" in files

info = gh.build_info()
assert gh.available_backends() == ["cpu"] and not info["cuda_built"], info

# every CPU kernel build of this wheel gives the same motion (the dispatcher picks by CPUID)
code = ("import json, numpy as np, gazehead_rt as gh; g = gh.Generator(num_agents=5, seed=3);"
        "rng = np.random.default_rng(0); gaze = rng.uniform(-0.5, 0.5, (120, 5, 2));"
        "print(json.dumps([gh.build_info()['cpu_kernels'], g.generate(gaze).tolist()]))")
runs = {}
for isa in ("baseline", "avx2", None):
    env = dict(os.environ)
    env.pop("GAZEHEAD_CPU_ISA", None)
    if isa:
        env["GAZEHEAD_CPU_ISA"] = isa
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    kernels, head = json.loads(out)
    runs[kernels] = np.asarray(head)
# the dispatcher picks the widest kernels this CPU runs (the release toolchain once broke that)
flags = set(open("/proc/cpuinfo").read().split("flags", 1)[1].split("\n", 1)[0].split())
best = ("avx512" if {"avx512f", "avx512vl", "fma"} <= flags else
        "avx2+fma" if {"avx2", "fma"} <= flags else "baseline")
assert json.loads(subprocess.run([sys.executable, "-c", "import json, gazehead_rt as gh; "
                                  "print(json.dumps(gh.build_info()['cpu_kernels']))"],
                                 capture_output=True, text=True, check=True,
                                 env={k: v for k, v in os.environ.items()
                                      if k != "GAZEHEAD_CPU_ISA"}).stdout) == best, best
ref = runs.pop("baseline")
assert np.isfinite(ref).all() and np.abs(ref).max() > 1e-3
for kernels, head in runs.items():
    np.testing.assert_allclose(head, ref, atol=1e-4, err_msg=kernels)

# no PyTorch here: the learning side says which extra to install instead of a traceback
r = subprocess.run([sys.executable, "-m", "gazehead_rt", "train"], capture_output=True, text=True)
assert r.returncode == 2 and 'pip install "gazehead_rt[train]"' in r.stderr, r
print("wheel OK:", gh.__file__, info["compiler"], "kernels", ["baseline", *runs])
PY
