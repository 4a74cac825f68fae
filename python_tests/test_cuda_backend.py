"""The cuda backend against the cpu backend (docs/design.md §4-5): same step contract, same Philox
noise, so the two must agree step by step. Needs an NVIDIA GPU; every test skips without one.

Under compute-sanitizer (docs/cuda.md):
    compute-sanitizer --tool memcheck --error-exitcode 1 python -m pytest python_tests/test_cuda_backend.py
"""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import gazehead_rt as gh

from reference import make_model, saccadic_gaze

pytestmark = pytest.mark.skipif("cuda" not in gh.available_backends(), reason="no CUDA device")

# Per-step tolerance vs cpu with identical noise and state (issue 5). fp32 differs from cpu
# only in summation order and libm ulps (~1e-6); reduced-precision weights are a model option
# whose error is the weight rounding (bf16: 8 bits of mantissa), so they get their own rows.
STEP_ATOL = {"float32": 1e-4, "float16": 2e-3, "bfloat16": 2e-2}
LONG_ATOL = 1e-3  # fp32 after 2,000 autoregressive steps (docs/design.md §4 allows 1e-3 at 10,000)


@pytest.fixture(scope="module")
def mp(tmp_path_factory):
    p = tmp_path_factory.mktemp("m") / "model.safetensors"
    make_model(p, seed=3)
    return p


def _pair(mp, n, **kw):
    kw.setdefault("seed", 11)
    return (
        gh.Generator(mp, num_agents=n, backend="cpu", **kw),
        gh.Generator(mp, num_agents=n, backend="cuda", **kw),
    )


def _copy_state(src, dst):
    dst.load_state_dict(src.state_dict())


@pytest.mark.parametrize("n", [1, 7, 256, 4097])
def test_per_step_parity_with_cpu(mp, n, rng):
    """Both backends start every step from the same state: the error is one step's."""
    cpu, gpu = _pair(mp, n, temperature=0.8)
    gaze = saccadic_gaze(rng, 40, n)
    worst = 0.0
    for t in range(gaze.shape[0]):
        h_c, h_g = cpu.step(gaze[t]), gpu.step(gaze[t])
        worst = max(worst, np.abs(h_c - h_g).max(), np.abs(cpu.eye - gpu.eye).max())
        _copy_state(cpu, gpu)
    assert worst <= STEP_ATOL["float32"], worst


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_reduced_precision_weights(mp, dtype, rng):
    cpu, gpu = _pair(mp, 64)
    gpu = gh.Generator(mp, num_agents=64, backend="cuda", seed=11, weights_dtype=dtype)
    assert gpu.weights_dtype == dtype
    gaze = saccadic_gaze(rng, 30, 64)
    worst = 0.0
    for t in range(30):
        worst = max(worst, np.abs(cpu.step(gaze[t]) - gpu.step(gaze[t])).max())
        _copy_state(cpu, gpu)
    assert worst <= STEP_ATOL[dtype], worst


def test_long_rollout_matches_cpu(mp, rng):
    gaze = saccadic_gaze(rng, 2000, 37)
    cpu, gpu = _pair(mp, 37, seed=5)
    hc, ec = cpu.generate(gaze, return_eye=True)
    hg, eg = gpu.generate(gaze, return_eye=True)
    assert np.abs(hc[0] - hg[0]).max() <= STEP_ATOL["float32"]
    assert np.abs(hc - hg).max() <= LONG_ATOL
    assert np.abs(ec - eg).max() <= LONG_ATOL
    # generate() leaves the state alone and sample 0 is what step() gives
    for t in range(5):
        np.testing.assert_allclose(gpu.step(gaze[t]), hg[t], atol=1e-6)


def test_generate_many_samples_and_step_agree(mp, rng):
    gaze = saccadic_gaze(rng, 50, 5)
    cpu, gpu = _pair(mp, 5)
    np.testing.assert_allclose(
        gpu.generate(gaze, num_samples=3), cpu.generate(gaze, num_samples=3), atol=1e-4
    )


def test_setting_changes_reach_the_graph(mp, rng):
    """seed, temperature and neck limits travel with each frame's upload, so the captured
    graph sees them; styles live in the device state."""
    gaze = saccadic_gaze(rng, 20, 9)
    cpu, gpu = _pair(mp, 9)
    for t in range(20):
        if t == 4:
            for g in (cpu, gpu):
                g.neck_limits = (0.1, 0.2, 0.05)
                g.set_style([[1.3, -0.2]] * 3, agents=[0, 4, 8])
        if t == 7:
            for g in (cpu, gpu):
                g.temperature = 0.3
        if t == 13:
            sd_c, sd_g = cpu.state_dict(), gpu.state_dict()
            sd_c["seed"] = sd_g["seed"] = 99
            cpu.load_state_dict(sd_c)
            gpu.load_state_dict(sd_g)
        np.testing.assert_allclose(gpu.step(gaze[t]), cpu.step(gaze[t]), atol=1e-4)
        _copy_state(cpu, gpu)
    np.testing.assert_array_equal(gpu.style, cpu.style)
    assert np.all(np.abs(gpu.head) <= np.float32([0.1, 0.2, 0.05]))


@pytest.mark.parametrize("n", [1, 37])
def test_parity_with_the_pytorch_reference(mp, n, rng):
    """Issue #9: the CUDA kernel against training/model.py, <= 1e-5 per step (teacher forced)
    and <= 1e-3 after 10,000 steps."""
    from parity_check import measure, reference_record

    from gazehead_rt.training.model import GazeHeadModel

    ref = GazeHeadModel.load(mp)
    style = gh.Generator(mp, num_agents=n, seed=3).style
    rec = reference_record(ref, saccadic_gaze(rng, 10_000, n), seed=3, style=style)
    r = measure(lambda: gh.Generator(mp, num_agents=n, backend="cuda", seed=3), rec)
    print(f"cuda parity n={n}: {r}")
    assert r["step_err"] <= 1e-5 and r["first_step_err"] <= 1e-5, r
    assert r["long_err"] <= 1e-3, r


def test_reset_dedupes_ids(mp):
    gpu = gh.Generator(mp, num_agents=5, backend="cuda")
    gpu._impl.reset(np.array([3, 3, 3, 1], np.int64))
    np.testing.assert_array_equal(gpu.state_dict()["episode"], [0, 1, 0, 1, 0])


def test_state_saved_on_cuda_continues_on_cpu(mp, rng):
    gaze = saccadic_gaze(rng, 60, 7)
    gpu = gh.Generator(mp, num_agents=7, backend="cuda", seed=2)
    for t in range(30):
        gpu.step(gaze[t])
    sd = gpu.state_dict()
    cpu = gh.Generator(mp, num_agents=7, backend="cpu", seed=0)
    cpu.load_state_dict(sd)
    assert cpu.seed == 2
    for t in range(30, 60):
        np.testing.assert_allclose(cpu.step(gaze[t]), gpu.step(gaze[t]), atol=1e-4)
    # and back: cpu state into a fresh cuda generator
    gpu2 = gh.Generator(mp, num_agents=7, backend="cuda")
    gpu2.load_state_dict(cpu.state_dict())
    for k, v in cpu.state_dict().items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(gpu2.state_dict()[k], v, err_msg=k)


def test_reset_some_and_all(mp, rng):
    gaze = saccadic_gaze(rng, 30, 7)
    cpu, gpu = _pair(mp, 7)
    for t in range(30):
        if t == 10:
            cpu.reset([1, 5])
            gpu.reset([1, 5])
        if t == 20:
            cpu.reset()
            gpu.reset()
        np.testing.assert_allclose(gpu.step(gaze[t]), cpu.step(gaze[t]), atol=1e-4)
        _copy_state(cpu, gpu)
    sd = gpu.state_dict()
    np.testing.assert_array_equal(sd["episode"], [1, 2, 1, 1, 1, 2, 1])
    np.testing.assert_array_equal(sd["frame"], 10)


def test_prime_matches_cpu(mp, rng):
    g_hist = saccadic_gaze(rng, 25, 7)
    h_hist = (0.5 * g_hist[..., [0, 1, 1]] * np.array([1, 1, 0.1])).astype(np.float32)
    cpu, gpu = _pair(mp, 7)
    cpu.prime(g_hist, h_hist)
    gpu.prime(g_hist, h_hist)
    sc, sg = cpu.state_dict(), gpu.state_dict()
    for k in ("s", "head", "head_vel", "z", "gaze", "style"):
        np.testing.assert_allclose(sg[k], sc[k], atol=1e-4, err_msg=k)
    for k in ("has_prev", "frame", "episode"):
        np.testing.assert_array_equal(sg[k], sc[k], err_msg=k)
    nxt = saccadic_gaze(rng, 1, 7)[0]
    np.testing.assert_allclose(gpu.step(nxt), cpu.step(nxt), atol=1e-4)


def test_nan_hold_matches_cpu(mp, rng):
    gaze = saccadic_gaze(rng, 20, 4)
    gaze[3:6, 1] = np.nan
    gaze[0, 2] = np.inf  # before any valid gaze: straight ahead
    cpu, gpu = _pair(mp, 4, nan_policy="hold")
    for t in range(20):
        np.testing.assert_allclose(gpu.step(gaze[t]), cpu.step(gaze[t]), atol=1e-4)
        _copy_state(cpu, gpu)


@pytest.mark.parametrize("value", [(np.nan, 0.0), (1.7, 0.0), (0.0, -4.0)])
def test_bad_input_errors_identical_and_state_unchanged(mp, value):
    cpu, gpu = _pair(mp, 4)
    gaze = np.zeros((4, 2), np.float32)
    gaze[2] = value
    msgs = []
    for g in (cpu, gpu):
        before = g.state_dict()
        with pytest.raises(ValueError) as e:
            g.step(gaze)
        msgs.append(str(e.value))
        for k, v in before.items():
            if isinstance(v, np.ndarray):
                np.testing.assert_array_equal(g.state_dict()[k], v, err_msg=k)
    assert msgs[0] == msgs[1]
    with pytest.raises(ValueError) as ec:
        cpu.generate(np.stack([np.zeros((4, 2), np.float32), gaze]))
    with pytest.raises(ValueError) as eg:
        gpu.generate(np.stack([np.zeros((4, 2), np.float32), gaze]))
    assert str(ec.value) == str(eg.value) and "frame 1" in str(eg.value)


def test_async_pair(mp, rng):
    gaze = saccadic_gaze(rng, 20, 33)
    cpu, gpu = _pair(mp, 33)
    out = np.empty((33, 3), np.float32)
    for t in range(20):
        gpu.step_async(gaze[t])
        with pytest.raises(RuntimeError, match="in flight"):
            gpu.step(gaze[t])
        h_c = cpu.step(gaze[t])
        assert gpu.result(out=out) is out
        np.testing.assert_allclose(out, h_c, atol=1e-4)
        np.testing.assert_allclose(gpu.eye, cpu.eye, atol=1e-4)
        _copy_state(cpu, gpu)


def test_build_reports_device(mp):
    from gazehead_rt._native import native

    assert native().cuda_device_count() >= 1
    assert "sm_" in native().cuda_device_name(0)
    gen = gh.Generator(mp, num_agents=4096)
    assert gen.backend == "cuda"  # above the crossover, auto takes the GPU


def test_compute_sanitizer_memcheck_clean(mp, tmp_path):
    """A short run of every kernel path under memcheck (the full suite: see the module doc)."""
    exe = shutil.which("compute-sanitizer") or "/usr/local/cuda/bin/compute-sanitizer"
    if not os.path.exists(exe):
        pytest.skip("compute-sanitizer not found")
    code = f"""
import numpy as np, gazehead_rt as gh
g = gh.Generator(r'{mp}', num_agents=37, backend='cuda', seed=1, nan_policy='hold')
x = np.random.default_rng(0).uniform(-0.3, 0.3, (12, 37, 2)).astype(np.float32)
x[3, 5] = np.nan
for t in range(6): g.step(x[t])
g.step_async(x[6]); g.result()
g.reset([0, 36]); g.prime(x[:4], np.zeros((4, 37, 3), np.float32))
g.generate(x, num_samples=2); g.load_state_dict(g.state_dict()); g.reset()
gh.Generator(r'{mp}', num_agents=37, backend='cuda', weights_dtype='bfloat16').step(x[0])
"""
    r = subprocess.run(
        [
            exe,
            "--tool",
            "memcheck",
            "--error-exitcode",
            "1",
            "--leak-check",
            "full",
            sys.executable,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert "ERROR SUMMARY: 0 errors" in r.stdout
