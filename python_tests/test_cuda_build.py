"""The CUDA backend as seen from a machine that may have no GPU (docs/design.md §5): the build
reports it, the package imports and works, and asking for cuda without a device is a clear
BackendError, never a silent fallback. The GPU behaviour is in test_cuda_backend.py."""

import numpy as np
import pytest

import gazehead_rt as gh
from gazehead_rt._native import native
from gazehead_rt.generator import CUDA_CROSSOVER_AGENTS

from reference import make_model, saccadic_gaze

CFG = native().build_config()
needs_cuda_build = pytest.mark.skipif(
    not CFG["cuda_built"], reason="built without the CUDA backend"
)


@pytest.fixture(scope="module")
def mp(tmp_path_factory):
    p = tmp_path_factory.mktemp("m") / "model.safetensors"
    make_model(p, seed=2)
    return p


def _has_device() -> bool:
    return bool(CFG["cuda_built"]) and native().cuda_device_count() > 0


@needs_cuda_build
def test_build_info_reports_the_cuda_build():
    info = gh.build_info()
    assert info["cuda_built"] is True
    archs = info["cuda_architectures"].split()
    assert archs and all(a.split("-")[0].isdigit() for a in archs), archs
    assert "built with CUDA" in info["cuda_note"]


@needs_cuda_build
def test_device_queries_never_raise():
    n = native().cuda_device_count()
    assert n >= 0
    status = native().cuda_device_status()
    assert (status == "") == (n > 0), status


def test_available_backends_lists_cuda_only_with_a_device():
    assert ("cuda" in gh.available_backends()) == _has_device()


@pytest.mark.skipif(_has_device(), reason="a CUDA device is present")
def test_cuda_without_a_device_is_a_clear_backend_error(mp):
    with pytest.raises(gh.BackendError, match="backend 'cuda'") as e:
        gh.Generator(mp, backend="cuda")
    if CFG["cuda_built"]:
        assert "no CUDA device is usable" in str(e.value)


@pytest.mark.skipif(_has_device(), reason="a CUDA device is present")
@needs_cuda_build
def test_native_constructor_without_a_device_raises_backend_error(mp):
    from gazehead_rt.generator import _native_model

    with pytest.raises(gh.BackendError, match="needs a CUDA device"):
        native().CudaGenerator(_native_model(gh.load_model(mp)), 4, 0, 1.0, 0)


@pytest.mark.parametrize("n", [1, CUDA_CROSSOVER_AGENTS - 1, CUDA_CROSSOVER_AGENTS, 4096])
def test_auto_decides_once_from_agent_count(mp, n):
    gen = gh.Generator(mp, num_agents=n)
    want = "cuda" if _has_device() and n >= CUDA_CROSSOVER_AGENTS else "cpu"
    assert gen.backend == want


def test_float16_weights_need_cuda(mp):
    with pytest.raises(ValueError, match="weights_dtype: 'float16' needs backend 'cuda'"):
        gh.Generator(mp, backend="cpu", weights_dtype="float16")
    assert gh.Generator(mp, backend="cpu", weights_dtype="bfloat16").weights_dtype == "bfloat16"
    with pytest.raises(ValueError, match="weights_dtype: expected one of"):
        gh.Generator(mp, backend="cpu", weights_dtype="int8")
    assert gh.Generator(mp, backend="cpu").weights_dtype == "float32"


def test_async_pair_on_cpu_matches_step(mp, rng):
    """The async pair is part of the one Generator API; on cpu it computes in step_async."""
    g = saccadic_gaze(rng, 10, 3)
    a = gh.Generator(mp, num_agents=3, backend="cpu", seed=4)
    b = gh.Generator(mp, num_agents=3, backend="cpu", seed=4)
    for t in range(10):
        b.step_async(g[t])
        np.testing.assert_array_equal(b.result(), a.step(g[t]))
        np.testing.assert_array_equal(b.eye, a.eye)


def test_async_pair_refuses_overlap(mp):
    gen = gh.Generator(mp, num_agents=2, backend="cpu")
    with pytest.raises(RuntimeError, match="no step_async"):
        gen.result()
    gen.step_async(np.zeros(2, np.float32))
    for call in (
        lambda: gen.step([0.0, 0.0]),
        lambda: gen.step_async([0.0, 0.0]),
        lambda: gen.reset(),
        lambda: gen.prime(np.zeros((2, 2)), np.zeros((2, 3))),
    ):
        with pytest.raises(RuntimeError, match="in flight; call result"):
            call()
    gen.result()
    gen.step([0.0, 0.0])


def test_async_bad_input_leaves_nothing_in_flight(mp):
    gen = gh.Generator(mp, num_agents=2, backend="cpu")
    with pytest.raises(ValueError, match="gaze of agent 1 is not finite"):
        gen.step_async(np.array([[0, 0], [np.nan, 0]], np.float32))
    gen.step([0.1, 0.2])  # nothing pending
