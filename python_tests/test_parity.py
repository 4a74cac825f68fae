"""The C++ CPU step reproduces the PyTorch reference (docs/design.md §4): <= 1e-5 abs per step and
<= 1e-3 after 10,000 autoregressive steps with the same noise."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import gazehead_rt as gh

from reference import make_model, saccadic_gaze, torch_rollout

STEP_ATOL = 1e-5  # docs/design.md §4, fp32
LONG_ATOL = 1e-3  # docs/design.md §4, after 10,000 steps


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    p = tmp_path_factory.mktemp("m") / "model.safetensors"
    make_model(p, seed=3)
    return p


def _teacher_forced_step_errors(gen, ref, gaze, seed, temperature):
    """Per-step error: both sides start each step from the same (reference) state."""
    from gazehead_rt.training.model import StepState

    N = gaze.shape[1]
    worst = 0.0
    st = StepState.zeros(N, ref.config.hidden_size)
    for t in range(gaze.shape[0]):
        eps = gh.philox_normal(seed, np.arange(N), np.zeros(N), np.full(N, t), ref.config.latent_size)
        h_ref, e_ref, st_next = ref.step(torch.from_numpy(gaze[t]), st, torch.from_numpy(eps), temperature)
        head = gen.step(gaze[t])
        worst = max(worst, np.abs(head - h_ref.numpy()).max(), np.abs(gen.eye - e_ref.numpy()).max())
        # put the reference state into the generator so errors do not accumulate
        sd = gen.state_dict()
        sd.update(s=st_next.s.numpy(), head=st_next.head.numpy(), eye=st_next.eye.numpy(),
                  gaze=st_next.gaze.numpy())
        gen.load_state_dict(sd)
        st = st_next
    return worst


@pytest.mark.parametrize("n", [1, 37])
@pytest.mark.parametrize("temperature", [1.0, 0.6])
def test_per_step_parity(model_path, n, temperature, rng):
    from gazehead_rt.training.model import GazeHeadModel

    ref = GazeHeadModel.load(model_path)
    gen = gh.Generator(model_path, num_agents=n, seed=11, temperature=temperature)
    gaze = saccadic_gaze(rng, 120, n)
    assert _teacher_forced_step_errors(gen, ref, gaze, 11, temperature) <= STEP_ATOL


@pytest.mark.parametrize("n", [1, 37])
def test_long_rollout_parity(model_path, n, rng):
    from gazehead_rt.training.model import GazeHeadModel

    ref = GazeHeadModel.load(model_path)
    T = 10_000
    gaze = saccadic_gaze(rng, T, n)
    gen = gh.Generator(model_path, num_agents=n, seed=5)
    heads = gen.generate(gaze)
    ref_heads, ref_eyes, _ = torch_rollout(ref, gaze, seed=5)
    err = np.abs(heads - ref_heads).max(axis=(1, 2))
    assert err[0] <= STEP_ATOL
    assert err.max() <= LONG_ATOL, f"max error {err.max():.2e} at step {err.argmax()}"
    assert np.abs(heads).max() > 0.05  # the rollout actually moved


@pytest.mark.parametrize("residual,activation", [(False, "relu"), (True, "tanh")])
def test_parity_other_configs(tmp_path, residual, activation, rng):
    sizes = {"enc_sizes": (32, 24, 16), "hidden_size": 40, "prior_sizes": (20, 12),
             "latent_size": 5, "dec_sizes": (30,)}
    ref = make_model(tmp_path / "m.safetensors", seed=4, residual=residual,
                     activation=activation, sizes=sizes)
    gen = gh.Generator(tmp_path / "m.safetensors", num_agents=6, seed=2)
    gaze = saccadic_gaze(rng, 300, 6)
    heads = gen.generate(gaze)
    ref_heads, _, _ = torch_rollout(ref, gaze, seed=2)
    np.testing.assert_allclose(heads, ref_heads, atol=1e-4)  # 300 autoregressive steps
    assert _teacher_forced_step_errors(gh.Generator(tmp_path / "m.safetensors", num_agents=6, seed=2),
                                       ref, gaze[:50], 2, 1.0) <= STEP_ATOL


def test_batch_independence(model_path, rng):
    """Agent k's motion depends only on its own gaze, not on N or on the other agents."""
    g37 = saccadic_gaze(rng, 200, 37)
    g50 = np.concatenate([g37, saccadic_gaze(rng, 200, 13)], axis=1)
    a = gh.Generator(model_path, num_agents=37, seed=9).generate(g37)
    b = gh.Generator(model_path, num_agents=50, seed=9).generate(g50)
    np.testing.assert_array_equal(a, b[:, :37])
    g37_other = g37.copy()
    g37_other[:, 1:] = saccadic_gaze(rng, 200, 36)  # everyone but agent 0 looks elsewhere
    c = gh.Generator(model_path, num_agents=37, seed=9).generate(g37_other)
    np.testing.assert_array_equal(a[:, 0], c[:, 0])
    # agent 0 alone in a generator of one is agent 0 of the batch
    d = gh.Generator(model_path, num_agents=1, seed=9).generate(g37[:, :1])
    np.testing.assert_array_equal(a[:, :1], d)


@pytest.mark.parametrize("cap", ["baseline", "avx2"])
def test_kernel_builds_agree(model_path, tmp_path, rng, cap):
    """The portable x86-64 kernels (CPUs without AVX2) and the AVX2 kernels give the same
    motion as the best kernels of this machine (summation order differs, so not bitwise)."""
    if cap not in gh.build_info()["cpu_kernels_compiled"] and cap != "avx2":
        pytest.skip(f"{cap} kernels are not compiled on this platform")
    gaze = saccadic_gaze(rng, 200, 9)
    np.save(tmp_path / "gaze.npy", gaze)
    code = ("import numpy as np, gazehead_rt as gh;"
            f"g = gh.Generator(r'{model_path}', num_agents=9, seed=3);"
            f"np.save(r'{tmp_path}/out.npy', g.generate(np.load(r'{tmp_path}/gaze.npy')));"
            "print(gh.build_info()['cpu_kernels'])")
    env = dict(os.environ, GAZEHEAD_CPU_ISA=cap)
    # cwd outside the checkout: `python -c` puts cwd first on sys.path, and the source tree's
    # gazehead_rt (no compiled core) must not shadow the installed package
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    used = out.stdout.strip()
    assert used == "baseline" if cap == "baseline" else used in ("baseline", "avx2+fma")
    best = gh.Generator(model_path, num_agents=9, seed=3).generate(gaze)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), best, atol=1e-4)


def test_default_model_parity(rng):
    path = gh.default_model_path()
    if not os.path.isfile(path):
        pytest.skip("the default model is not bundled in this checkout yet")
    from gazehead_rt.training.model import GazeHeadModel

    ref = GazeHeadModel.load(path)
    gaze = saccadic_gaze(rng, 600, 4)
    heads = gh.Generator(num_agents=4, seed=1).generate(gaze)
    ref_heads, _, _ = torch_rollout(ref, gaze, seed=1)
    np.testing.assert_allclose(heads, ref_heads, atol=1e-4)
