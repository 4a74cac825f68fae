"""The ONNX export of the v3 step (docs/onnx.md) computes the PyTorch reference step in ONNX
Runtime: <= 1e-5 abs per step, <= 1e-3 over a 1,000-step rollout fed back through the
explicit state, with the neck limit active and gaze crossing +-180 deg."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import gazehead_rt as gh  # noqa: E402
from gazehead_rt.model_file import (  # noqa: E402
    FORMAT_VERSION,
    INPUT_SIZE,
    ModelConfig,
    Normalization,
    load_model,
)

STEP_ATOL = 1e-5  # docs/design.md §4, fp32, one step from the same state
ROLLOUT_ATOL = 1e-3  # the step contract's long-rollout bound, here over 1,000 steps
SEED = 21
N = 6
# sizes off the defaults on purpose: Z = 5 spans two Philox blocks, one partial
SIZES = dict(
    enc_sizes=(32, 24), hidden_size=40, prior_sizes=(24,), latent_size=5, dec_sizes=(40, 24)
)


def _export_module():
    from gazehead_rt.training import export_onnx

    return export_onnx


def _model_class():
    return _export_module().GazeHeadModel


def _make_model(path):
    """A random v3 model; its output offset drives the head into the soft neck zone, where it
    stays in most frames of a rollout (the limit is then at work every frame)."""
    torch.manual_seed(5)
    rng = np.random.default_rng(5)
    cfg = ModelConfig(**SIZES)
    norm = Normalization(
        x_mean=rng.normal(0, 0.05, INPUT_SIZE).astype(np.float32),
        x_std=rng.uniform(0.3, 1.5, INPUT_SIZE).astype(np.float32),
        y_mean=np.array([0.1, -0.2, 0.0], np.float32),
        y_std=np.array([2.0, 4.0, 1.0], np.float32),
    )
    m = _model_class()(cfg, norm)
    with torch.no_grad():
        m.dec[-1].weight.mul_(3.0)  # outputs of order one
        m.prior[-1].bias[cfg.latent_size :].fill_(-1.0)
    m.save(path, provenance={"purpose": "onnx export test"})
    return _model_class().load(path).eval()


def _gaze(T: int, n: int) -> np.ndarray:
    """(T, n, 2): large saccades (neck limits engage), last agent sweeping yaw through +-pi."""
    rng = np.random.default_rng(9)
    g = np.zeros((T, n, 2), np.float32)
    cur = np.zeros((n, 2))
    target = np.zeros((n, 2))
    for t in range(T):
        jump = rng.random(n) < 1.0 / 30.0
        target[jump] = rng.uniform([-1.2, -2.8], [1.2, 2.8], size=(int(jump.sum()), 2))
        cur += 0.5 * (target - cur)
        g[t] = cur
    sweep = np.pi - 0.6 + 0.8 * np.sin(np.arange(T) * 2 * np.pi / 90.0)  # around the seam
    g[:, -1, 1] = np.remainder(sweep + np.pi, 2 * np.pi) - np.pi
    g[:, -1, 0] = 0.1
    return g


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """Tiny per-frame matmuls: threads only add contention (10x slower on a busy machine)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp("onnx")
    model = _make_model(d / "model.safetensors")
    out = _export_module().export_step_onnx(d / "model.safetensors", d / "step.onnx")
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(out, so, providers=["CPUExecutionProvider"])
    return model, str(d / "model.safetensors"), out, sess


def _eps(frame: int, n: int, latent: int) -> np.ndarray:
    return gh.philox_normal(SEED, np.arange(n), np.zeros(n), np.full(n, frame), latent)


def _feeds(gaze, st, eps, temperature, limits):
    f32 = lambda a: np.ascontiguousarray(np.asarray(a, np.float32))  # noqa: E731
    return {
        "gaze": f32(gaze),
        "gaze_prev": f32(st.gaze),
        "has_prev": f32(st.has_prev),
        "head_prev": f32(st.head),
        "head_vel_prev": f32(st.head_vel),
        "z_prev": f32(st.z),
        "s_prev": f32(st.s),
        "style": f32(st.style),
        "eps": f32(eps),
        "temperature": np.array([temperature], np.float32),
        "neck_limits": f32(limits),
    }


def _state(model, n, style):
    from gazehead_rt.model_file import STYLE_SIZE

    st = _export_module().StepState.zeros(n, model.config.hidden_size, model.config.latent_size)
    st.style = torch.as_tensor(style, dtype=torch.float32).reshape(n, STYLE_SIZE).clone()
    return st


def _styles(n):
    return np.random.default_rng(2).normal([0.5, 0.5], [0.3, 0.4], (n, 2)).astype(np.float32)


@pytest.mark.parametrize("temperature,limits_deg", [(1.0, None), (0.6, (25.0, 45.0, 15.0))])
def test_per_step_parity(exported, temperature, limits_deg):
    """Each step starts both sides from the reference state, so errors cannot accumulate.

    Every 5th frame the head is put anywhere in +-1.1 limits, so the hard clamp and the full
    range of the soft zone are crossed, not only where this random model happens to drift.
    """
    model, _, _, sess = exported
    c = model.config
    limits = np.asarray(c.neck_limits if limits_deg is None else np.deg2rad(limits_deg), np.float32)
    rng = np.random.default_rng(3)
    gaze = _gaze(300, N)
    st = _state(model, N, _styles(N))
    worst, limited, clamped, eye_clamped, wrapped = 0.0, 0, 0, 0, False
    for t in range(gaze.shape[0]):
        if t % 5 == 4:
            st.head = torch.from_numpy((rng.uniform(-1.1, 1.1, (N, 3)) * limits).astype(np.float32))
        eps = _eps(t, N, c.latent_size)
        h, e, nst = model.step(
            torch.from_numpy(gaze[t]),
            st,
            torch.from_numpy(eps),
            temperature,
            torch.from_numpy(limits),
        )
        out = dict(
            zip(
                ("head", "eye", "head_vel", "z", "s"),
                sess.run(None, _feeds(gaze[t], st, eps, temperature, limits)),
            )
        )
        for name, ref in (
            ("head", h),
            ("eye", e),
            ("head_vel", nst.head_vel),
            ("z", nst.z),
            ("s", nst.s),
        ):
            worst = max(worst, float(np.abs(out[name] - ref.numpy()).max()))
        with torch.no_grad():
            v = model.decode(nst.s, nst.z).numpy()
        limited += int((np.abs(nst.head_vel.numpy() - v) > 1e-4).sum())
        clamped += int((np.abs(h.numpy()) >= limits * (1 - 1e-6)).sum())
        eye_clamped += int((np.abs(e.numpy()) >= c.eye_limit * (1 - 1e-6)).sum())
        wrapped |= bool(t > 0 and np.any(np.abs(gaze[t, :, 1] - gaze[t - 1, :, 1]) > np.pi))
        st = nst
    print(
        f"per-step max abs error (T={temperature}, limits={limits_deg}): {worst:.3g}; "
        f"limited {limited}, clamped {clamped}, eye clamped {eye_clamped} (agent-axis values)"
    )
    assert worst <= STEP_ATOL
    # the test must exercise what it claims: the soft limit, the clamp, the eye clamp, the seam
    assert limited > 100 and clamped > 20 and eye_clamped > 20
    assert wrapped, "gaze never crossed +-180 deg"


def _ort_rollout(sess, gaze, style, latent, hidden, temperature, limits):
    T, n, _ = gaze.shape
    f = {
        "gaze_prev": np.zeros((n, 2), np.float32),
        "has_prev": np.zeros(n, np.float32),
        "head_prev": np.zeros((n, 3), np.float32),
        "head_vel_prev": np.zeros((n, 3), np.float32),
        "z_prev": np.zeros((n, latent), np.float32),
        "s_prev": np.zeros((n, hidden), np.float32),
        "style": style,
        "temperature": np.array([temperature], np.float32),
        "neck_limits": np.asarray(limits, np.float32),
    }
    heads, eyes = np.empty((T, n, 3), np.float32), np.empty((T, n, 2), np.float32)
    for t in range(T):
        f["gaze"], f["eps"] = gaze[t], _eps(t, n, latent)
        head, eye, vel, z, s = sess.run(None, f)
        heads[t], eyes[t] = head, eye
        # the host's whole job: carry the state into the next frame
        f.update(
            gaze_prev=gaze[t],
            has_prev=np.ones(n, np.float32),
            head_prev=head,
            head_vel_prev=vel,
            z_prev=z,
            s_prev=s,
        )
    return heads, eyes


def test_rollout_parity_1000_steps(exported):
    model, _, _, sess = exported
    c = model.config
    T, temperature = 1000, 1.0
    gaze, style = _gaze(T, N), _styles(N)
    heads, eyes = _ort_rollout(
        sess, gaze, style, c.latent_size, c.hidden_size, temperature, c.neck_limits
    )
    st = _state(model, N, style)
    err = np.empty(T)
    for t in range(T):
        h, e, st = model.step(
            torch.from_numpy(gaze[t]), st, torch.from_numpy(_eps(t, N, c.latent_size)), temperature
        )
        err[t] = max(np.abs(heads[t] - h.numpy()).max(), np.abs(eyes[t] - e.numpy()).max())
    print(f"rollout max abs error over {T} steps: {err.max():.3g} (last step {err[-1]:.3g})")
    assert err.max() <= ROLLOUT_ATOL
    assert np.abs(heads).max(axis=(0, 1))[1] >= c.neck_limits[1] * 0.9  # the yaw limit engaged


def test_prime_through_the_graph(exported):
    """Priming (context) needs no second graph: temperature 0 gives z = mu, and the host
    overwrites head/head_vel with the observed head, as docs/onnx.md describes."""
    model, _, _, sess = exported
    c = model.config
    T = 60
    gaze = _gaze(T, N)
    head_obs = (
        0.5 * np.sin(np.arange(T)[:, None, None] / 9.0 + np.arange(N * 3).reshape(1, N, 3))
    ).astype(np.float32)
    style = _styles(N)
    ref = model.prime(torch.from_numpy(gaze), torch.from_numpy(head_obs), _state(model, N, style))
    f = {
        "gaze_prev": np.zeros((N, 2), np.float32),
        "has_prev": np.zeros(N, np.float32),
        "head_prev": np.zeros((N, 3), np.float32),
        "head_vel_prev": np.zeros((N, 3), np.float32),
        "z_prev": np.zeros((N, c.latent_size), np.float32),
        "s_prev": np.zeros((N, c.hidden_size), np.float32),
        "style": style,
        "eps": np.zeros((N, c.latent_size), np.float32),
        "temperature": np.zeros(1, np.float32),
        "neck_limits": np.asarray(c.neck_limits, np.float32),
    }
    for t in range(T):
        f["gaze"] = gaze[t]
        _, _, _, z, s = sess.run(None, f)
        vel = (head_obs[t] - f["head_prev"]) * np.float32(c.fps) * f["has_prev"][:, None]
        f.update(
            gaze_prev=gaze[t],
            has_prev=np.ones(N, np.float32),
            head_prev=head_obs[t],
            head_vel_prev=vel,
            z_prev=z,
            s_prev=s,
        )
    for name, a, b in (
        ("s", f["s_prev"], ref.s),
        ("z", f["z_prev"], ref.z),
        ("head_vel", f["head_vel_prev"], ref.head_vel),
    ):
        assert np.abs(a - b.numpy()).max() <= STEP_ATOL, name


def test_graph_contract(exported):
    """Dynamic agent axis, documented inputs/outputs, no recurrent op, metadata of the model."""
    _, path, out, sess = exported
    proto = onnx.load(out)
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in sess.get_inputs()] == [
        "gaze",
        "gaze_prev",
        "has_prev",
        "head_prev",
        "head_vel_prev",
        "z_prev",
        "s_prev",
        "style",
        "eps",
        "temperature",
        "neck_limits",
    ]
    assert [o.name for o in sess.get_outputs()] == ["head", "eye", "head_vel", "z", "s"]
    ops = {n.op_type for n in proto.graph.node}
    assert not ops & {"GRU", "RNN", "LSTM", "Loop", "Scan", "If"}, sorted(ops)
    meta = {p.key: p.value for p in proto.metadata_props}
    loaded = load_model(path)
    assert meta["gazehead.format_version"] == str(FORMAT_VERSION)
    assert meta["gazehead.model_sha256"] == loaded.sha256
    assert float(meta["gazehead.fps"]) == loaded.config.fps
    assert int(meta["gazehead.latent_size"]) == SIZES["latent_size"]
    assert int(meta["gazehead.hidden_size"]) == SIZES["hidden_size"]
    assert json.loads(meta["gazehead.neck_limits"]) == list(loaded.config.neck_limits)
    assert json.loads(meta["gazehead.style_mean"]) == list(loaded.config.style_mean)
    assert json.loads(meta["gazehead.style_std"]) == list(loaded.config.style_std)
    assert float(meta["gazehead.eye_limit"]) == loaded.config.eye_limit
    assert json.loads(meta["gazehead.config"])["dec_sizes"] == list(SIZES["dec_sizes"])
    Z, H = SIZES["latent_size"], SIZES["hidden_size"]
    for n in (1, 13):
        f = {
            i.name: np.zeros([n if isinstance(d, str) else d for d in i.shape], np.float32)
            for i in sess.get_inputs()
        }
        f["temperature"][:] = 1.0
        f["neck_limits"][:] = 0.5
        shapes = [o.shape for o in sess.run(None, f)]
        assert shapes == [(n, 3), (n, 2), (n, 3), (n, Z), (n, H)]


def test_format_1_file_refused(exported, tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    _, path, _, _ = exported
    with safe_open(path, framework="numpy") as f:
        meta = dict(f.metadata())
    v1 = tmp_path / "v1.safetensors"
    save_file(load_file(path), str(v1), metadata={**meta, "format_version": "1"})
    with pytest.raises(gh.ModelError, match="format_version 1"):
        _export_module().export_step_onnx(v1, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_against_installed_generator(exported):
    """The runtime's own v3 step, driven the same way, gives the same motion as the graph."""
    model, path, _, sess = exported
    c = model.config
    style = _styles(N)
    try:
        gen = gh.Generator(path, num_agents=N, seed=SEED, style=style)
    except gh.ModelError as e:
        pytest.skip(f"the installed Generator refuses format-2 (v3) files: {e}")
    except TypeError as e:
        pytest.skip(f"the installed Generator has no per-agent style (not the v3 runtime): {e}")
    T = 300
    gaze = _gaze(T, N)
    heads, eyes = _ort_rollout(sess, gaze, style, c.latent_size, c.hidden_size, 1.0, c.neck_limits)
    err = np.empty(T)
    for t in range(T):
        h = gen.step(gaze[t])
        err[t] = max(np.abs(h - heads[t]).max(), np.abs(gen.eye - eyes[t]).max())
    assert err[:5].max() <= STEP_ATOL
    assert err.max() <= ROLLOUT_ATOL


def _cli(args, *, block_onnx=False, cwd=None):
    code = "import sys\n"
    if block_onnx:
        code += (
            "import importlib.abc\n"
            "class _NoOnnx(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'onnx' or name.startswith('onnx.'):\n"
            "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
            "sys.meta_path.insert(0, _NoOnnx())\n"
        )
    code += f"from gazehead_rt.cli import main\nsys.exit(main({list(args)!r}))\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd)


def test_cli_export(exported, tmp_path):
    """Opset 15, the newest one Unity Sentis documents, computes what the default 17 does."""
    model, path, _, sess17 = exported
    out = tmp_path / "step.onnx"
    r = _cli(["export-onnx", path, "-o", str(out), "--opset", "15"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"wrote {out}" in r.stdout
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto)
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) == 15
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert [o.name for o in sess.get_outputs()] == ["head", "eye", "head_vel", "z", "s"]
    rng = np.random.default_rng(4)
    f = {
        i.name: rng.normal(0, 0.5, [7 if isinstance(d, str) else d for d in i.shape]).astype(
            np.float32
        )
        for i in sess.get_inputs()
    }
    f["has_prev"] = np.ones(7, np.float32)
    f["temperature"] = np.ones(1, np.float32)
    f["neck_limits"] = np.asarray(model.config.neck_limits, np.float32)
    for a, b in zip(sess.run(None, f), sess17.run(None, f)):
        assert np.abs(a - b).max() <= STEP_ATOL


def test_cli_without_onnx_names_the_extra(exported, tmp_path):
    _, path, _, _ = exported
    out = tmp_path / "step.onnx"
    r = _cli(["export-onnx", path, "-o", str(out)], block_onnx=True, cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "onnx" in lines[0] and 'pip install "gazehead_rt[bench]"' in lines[0]
    assert not out.exists() and not os.path.exists(str(out) + ".tmp")


def _doc_c_snippet() -> str:
    """The C noise function printed in docs/onnx.md (the block after <!-- philox-c -->)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "docs", "onnx.md")) as f:
        text = f.read()
    block = text.split("<!-- philox-c -->", 1)[1].split("```c", 1)[1].split("```", 1)[0]
    return block


def test_documented_c_noise_matches_runtime(tmp_path):
    """The C function a host copies from docs/onnx.md draws the runtime's eps."""
    import shutil

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler on PATH")
    src = tmp_path / "eps.c"
    src.write_text(
        _doc_c_snippet()
        + """
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  if (argc != 6) return 2;
  float eps[64];
  int latent = atoi(argv[5]);
  gazehead_eps((uint32_t)strtoul(argv[1], 0, 10), (uint32_t)strtoul(argv[2], 0, 10),
               (uint32_t)strtoul(argv[3], 0, 10), (uint32_t)strtoul(argv[4], 0, 10), latent, eps);
  for (int j = 0; j < latent; ++j) printf("%.9g\\n", eps[j]);
  return 0;
}
"""
    )
    exe = tmp_path / "eps"
    r = subprocess.run(
        [cc, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", str(src), "-o", str(exe), "-lm"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    worst = 0.0
    cases = [
        (0, 0, 0, 0, 8),
        (21, 5, 0, 999, 5),
        (7, 123456, 3, 2**31 + 5, 13),
        (2**32 - 1, 2**32 - 1, 2**32 - 1, 2**32 - 1, 2),
    ]  # the last: the style draw's counter
    for seed, agent, episode, frame, latent in cases:
        out = subprocess.run(
            [str(exe), *map(str, (seed, agent, episode, frame, latent))],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        got = np.array([float(x) for x in out], np.float32)
        want = gh.philox_normal(seed, [agent], [episode], [frame], latent)[0]
        worst = max(worst, float(np.abs(got - want).max()))
    # same float formulas; only libm's logf/cosf/sinf rounding may differ between hosts
    print(f"documented C noise vs runtime: max abs {worst:.3g}")
    assert worst <= 2e-6, worst
