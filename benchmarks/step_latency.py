"""Per-step latency: gazehead_rt (cpu) vs PyTorch eager vs ONNX Runtime (docs/design.md §7).

Same model and inputs for all. The peers run the reference step graph (condition,
encoder, GRUCell, prior, sampling, decoder, neck limit, eye) with eps given as an input;
ours also draws the Philox noise inside the step, so the comparison is conservative for us.
Every engine is single-threaded (torch.set_num_threads(1); ORT intra_op_num_threads=1 with
spinning off); gazehead_rt is also measured on --threads threads (default 2), fp32 and bf16
weights. The run ends with a roofline: each of our shapes' multiply-adds per second and weight
bytes per second against this core's limits, measured here by the kernels' own probes (FMA
and vdpbf16ps rates, L2 read bandwidth; gazehead_rt._C.roofline_probe).

    python benchmarks/step_latency.py                    # default model, N = 1 16 256 4096
    python benchmarks/step_latency.py --agents 1 16 --seconds 2
    python benchmarks/step_latency.py --call-forms       # the Python call forms at N = 1

Prints a table and writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# gazehead_rt (with gazehead_rt.training) comes from the installed package (pip install ".[bench]"): the
# source tree has no compiled core.


# CPU flags that decide which kernels run and how fast (the JSON lists those present)
_ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512vl", "avx512bw")
_ISA_PREFIXES = ("avx512", "amx", "avx_vnni")


def machine() -> dict:
    cpu, flags = platform.processor(), []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and cpu == platform.processor():
                    cpu = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = line.split(":", 1)[1].split()
    except OSError:
        pass
    isa = sorted(f for f in flags if f in _ISA_FLAGS or f.startswith(_ISA_PREFIXES))
    return {
        "cpu": cpu,
        "cpu_flags": isa,
        "logical_cpus": os.cpu_count(),
        "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def save_result(result: dict, out_dir: str, filename: str) -> str:
    """Write a benchmark's JSON (with the checkout's git revision) and return its path."""
    try:
        result["git_revision"] = subprocess.run(
            ["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        pass
    os.makedirs(out_dir, exist_ok=True)
    out_path = os.path.join(out_dir, filename)
    with open(out_path, "w") as f:
        json.dump(result, f, indent=1)
    return out_path


class Timing(np.ndarray):
    """Per-call wall latencies (microseconds), with ``cpu_us``: the calling thread's CPU time
    per call over the same calls. On a shared core the wall time includes other processes'
    time slices and the CPU time does not (every one-thread engine here, ONNX Runtime's
    sequential executor included, runs on the calling thread)."""

    cpu_us: float


def timeit(fn, seconds: float, min_reps: int = 30, warmup: int = 10) -> Timing:
    """Per-call latencies (microseconds) over at least ``seconds`` and ``min_reps`` calls."""
    for _ in range(warmup):
        fn()
    out = []
    c0 = time.thread_time_ns()
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end or len(out) < min_reps:
        t0 = time.perf_counter_ns()
        fn()
        out.append(time.perf_counter_ns() - t0)
    t = (np.asarray(out) / 1e3).view(Timing)  # microseconds
    t.cpu_us = (time.thread_time_ns() - c0) / 1e3 / len(out)
    return t


class TorchStep:
    """The reference step as a traceable module: explicit state in, new state out."""

    def __new__(cls, model):
        import torch

        from gazehead_rt.training.model import StepState

        class _Step(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, gaze, s, head, head_vel, z, gaze_prev, has_prev, style, eps):
                st = StepState(s, head, head_vel, z, gaze_prev, has_prev > 0.5, style)
                h, e, nst = self.m.step.__wrapped__(self.m, gaze, st, eps, 1.0)
                return h, e, nst.s, nst.head_vel, nst.z

        return _Step(model).eval()


class TorchNet:
    """The lean peer a user would export: the network only (encoder, GRUCell, prior, sampling,
    decoder); condition features, neck limit and eye stay in numpy (LeanHost)."""

    def __new__(cls, model):
        import torch

        class _Net(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, enc_in, s, eps):
                s = self.m.gru(self.m.enc(enc_in), s)
                mu, sigma = self.m.split_gaussian(self.m.prior(s))
                z = mu + sigma * eps
                return self.m.dec(torch.cat([s, z], dim=-1)), s, z

        return _Net(model).eval()


class LeanHost:
    """The per-agent math around a network-only peer, in numpy (what a user writes)."""

    def __init__(self, model, n: int, style: np.ndarray):
        from gazehead_rt.geometry import eye_from_gaze_head, wrap_angle

        c, norm = model.config, model.normalization
        self.eye_from_gaze_head, self.wrap = eye_from_gaze_head, wrap_angle
        self.fps, self.soft, self.eye_limit = c.fps, c.neck_soft, c.eye_limit
        self.L = np.asarray(c.neck_limits, np.float32)
        self.x_mean, self.x_std, self.y_mean, self.y_std = (
            norm.x_mean,
            norm.x_std,
            norm.y_mean,
            norm.y_std,
        )
        self.reach = (c.reach_gain, c.reach_threshold, c.reach_accel / c.fps)
        self.head = np.zeros((n, 3), np.float32)
        self.head_vel = np.zeros((n, 3), np.float32)
        self.gaze = np.zeros((n, 2), np.float32)
        self.z = np.zeros((n, c.latent_size), np.float32)
        self.style = style

    def pre(self, gaze: np.ndarray) -> np.ndarray:
        eye_tgt = self.eye_from_gaze_head(gaze, self.head)
        d = gaze - self.gaze
        gvel = np.stack([d[:, 0], self.wrap(d[:, 1])], -1) * self.fps
        x = np.concatenate([eye_tgt, gvel, self.head_vel, self.head[:, :2], self.style], -1)
        self.gaze, self.eye_tgt = gaze, eye_tgt
        return np.concatenate([(x - self.x_mean) / self.x_std, self.z], -1).astype(np.float32)

    def post(self, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v = y * self.y_std + self.y_mean
        # reach floor (pitch, yaw): toward the eye target at least gain * (|e| - threshold)
        gain, thr, step = self.reach
        sgn = np.where(self.eye_tgt >= 0, 1.0, -1.0)
        ae = np.abs(self.eye_tgt)
        half = max(0.5 * thr, 1e-6)
        w = np.where(ae >= thr, 1.0, np.clip((ae - half) / half, 0.0, None))
        floor = np.minimum(gain * (ae - thr), sgn * self.head_vel[:, :2] + step)
        sv = sgn * v[:, :2]
        v = np.concatenate([sgn * (sv + w * np.clip(floor - sv, 0.0, None)), v[:, 2:]], -1)
        h, Ls = self.head, self.soft * self.L
        u = np.clip((np.abs(h) - Ls) / (self.L - Ls), 0.0, 1.0)
        v = np.where((h * v > 0) & (np.abs(h) > Ls), v * (1 - u * u * (3 - 2 * u)), v)
        head = np.clip(h + v / self.fps, -self.L, self.L)
        self.head_vel, self.head, self.z = (head - h) * self.fps, head, z
        eye = np.clip(self.eye_from_gaze_head(self.gaze, head), -self.eye_limit, self.eye_limit)
        return head, eye


def call_forms(path: str, seconds: float) -> int:
    """p50/p99 of the Python call forms at N = 1 (issue: step() <= 3 us p50 in each form)."""
    import gazehead_rt as gh

    gen = gh.Generator(path, num_agents=1, seed=0)
    g64 = np.array([0.1, -0.2])
    g32 = np.array([[0.1, -0.2]], np.float32)
    out = np.empty((1, 3), np.float32)
    forms = {
        "step(gaze (2,) float64)  [README form]": lambda: gen.step(g64),
        "step(gaze (1, 2) float32)": lambda: gen.step(g32),
        "step(gaze (2,) float64, out=buf)": lambda: gen.step(g64, out=out),
        "step(gaze (1, 2) float32, out=buf)": lambda: gen.step(g32, out=out),
        "update(gaze (2,) float64, 1/60 s)": lambda: gen.update(g64, 1 / 60),
    }
    print(
        f"\nPython call latency, N = 1, model {os.path.basename(path)}, {machine()['cpu']}, "
        f"kernels {gh.build_info()['cpu_kernels']}"
    )
    core = gen._impl
    head, eye = np.empty((1, 3), np.float32), np.empty((1, 2), np.float32)
    forms["(native step only, for reference)"] = lambda: core.step(g32, head, eye)
    for name, fn in forms.items():
        t = timeit(fn, seconds, min_reps=2000, warmup=2000)
        p50, p99 = np.percentile(t, [50, 99])
        print(f"  {name:<42} p50 {p50:6.2f} us   p99 {p99:6.2f} us")
    return 0


def model_work(path: str) -> dict:
    """Multiply-adds per agent-step and the weight bytes one pass through the layers reads."""
    import gazehead_rt as gh

    t = gh.load_model(path).tensors
    macs = int(sum(v.size for k, v in t.items() if k.endswith("weight") or "weight_" in k))
    return {
        "mac_per_agent_step": macs,
        "weight_bytes_fp32": 4 * macs,
        "weight_bytes_bf16": 2 * macs,
    }


# Agents per pass through the weights (cpu_generator.cpp kChunk): each chunk streams every
# weight once from L2, so a step of N agents reads ceil(N / 32) times the weights.
_CHUNK = 32


def roofline(path: str, summary: list, threads: int) -> dict:
    """Achieved multiply-adds and weight bytes per second of each of our shapes against the
    probes' limits (per thread, times the threads used), printed and returned for the JSON.
    One thread is timed by its CPU time per call, like the probes; two by wall p50."""
    from gazehead_rt import _C

    work = model_work(path)
    probes = [_C.roofline_probe(0.3) for _ in range(3)]  # best of 3: a shared core only slows
    peak = {k: max(p[k] for p in probes) for k in probes[0] if k.endswith("_per_s")}
    print(
        f"\nroofline ({probes[0]['isa']} kernels, per core, thread CPU time, best of 3): "
        f"fp32 FMA {peak['fma_mac_per_s'] / 1e9:.1f} GMAC/s, "
        f"bf16 dot {peak['bf16_dot_mac_per_s'] / 1e9:.1f} GMAC/s, "
        f"L2 read {peak['l2_read_bytes_per_s'] / 1e9:.1f} GB/s; "
        f"{work['mac_per_agent_step']} MAC per agent-step, weights "
        f"{work['weight_bytes_fp32'] / 1e3:.0f} kB fp32 / {work['weight_bytes_bf16'] / 1e3:.0f} kB bf16"
    )
    print(
        f"{'N':>6} {'weights':>8} {'threads':>7} {'us':>10} {'GMAC/s':>8} {'% MAC peak':>10} "
        f"{'weight GB/s':>11} {'% L2 bw':>8}"
    )
    rows = []
    for r in summary:
        n = r["agents"]
        for dtype in ("fp32", "bf16"):
            for t in sorted({1, threads}):
                key = "gazehead_rt_cpu" + ("_bf16" if dtype == "bf16" else "")
                key += f"_{t}threads" if t > 1 else ""
                if key not in r:
                    continue
                # one thread: its CPU time per call (a shared core's other work not counted);
                # more threads: wall p50
                us = r[key]["cpu_us"] if t == 1 else r[key]["p50_us"]
                # threads only split whole chunks: below 2 chunks one thread does the work
                used = min(t, -(-n // _CHUNK))
                macs = n * work["mac_per_agent_step"] / (us * 1e-6)
                wbytes = -(-n // _CHUNK) * work[f"weight_bytes_{dtype}"] / (us * 1e-6)
                mac_peak = used * peak["fma_mac_per_s" if dtype == "fp32" else "bf16_dot_mac_per_s"]
                l2 = used * peak["l2_read_bytes_per_s"]
                row = {
                    "agents": n,
                    "weights": dtype,
                    "threads": t,
                    "us": us,
                    "gmac_per_s": round(macs / 1e9, 2),
                    "mac_peak_fraction": round(macs / mac_peak, 3) if mac_peak else None,
                    "weight_gb_per_s": round(wbytes / 1e9, 2),
                    "l2_bandwidth_fraction": round(wbytes / l2, 3),
                }
                rows.append(row)
                frac = f"{100 * row['mac_peak_fraction']:>9.0f}%" if mac_peak else f"{'-':>10}"
                print(
                    f"{n:>6} {dtype:>8} {t:>7} {us:>10.2f} {row['gmac_per_s']:>8.1f} {frac} "
                    f"{row['weight_gb_per_s']:>11.1f} {100 * row['l2_bandwidth_fraction']:>7.0f}%"
                )
    return {"probe": {**peak, "isa": probes[0]["isa"]}, **work, "rows": rows}


def targets(summary: list, threads: int) -> dict:
    """The speed targets of the runtime (docs/runtime.md), against lean ONNX Runtime running
    the network only, one thread: ratios of wall p50 (the targets' measure) and of thread CPU
    time per call (what a shared, loaded core cannot inflate)."""
    by_n = {r["agents"]: r for r in summary}
    out = {}

    def ratio(n, ours, peer="onnxruntime_net_only"):
        r = by_n.get(n)
        if r is None or ours not in r:
            return None, None
        return (
            round(r[peer]["p50_us"] / r[ours]["p50_us"], 2),
            round(r[peer]["cpu_us"] / r[ours]["cpu_us"], 2),
        )

    out["n1_readme_call_vs_ort_net_only"] = (*ratio(1, "gazehead_rt_readme_call"), 7.0)
    out["n1_out_call_vs_ort_net_only"] = (*ratio(1, "gazehead_rt_cpu"), 7.0)
    out["n1_bf16_out_call_vs_ort_net_only"] = (*ratio(1, "gazehead_rt_cpu_bf16"), None)
    out["n256_fp32_vs_ort_net_only"] = (*ratio(256, "gazehead_rt_cpu"), 1.2)
    out["n256_bf16_vs_ort_net_only"] = (*ratio(256, "gazehead_rt_cpu_bf16"), 2.0)
    r = by_n.get(4096)
    if r is not None and threads > 1:
        for dt in ("", "_bf16"):
            key = f"gazehead_rt_cpu{dt}_{threads}threads"
            # wall time only: the CPU time of the calling thread is half the work
            out[f"n4096{dt or '_fp32'}_{threads}threads_vs_1"] = (
                round(r[f"gazehead_rt_cpu{dt}"]["p50_us"] / r[key]["p50_us"], 2),
                None,
                1.8,
            )
    print("\ntargets (ratio of wall p50, ratio of thread CPU time, target):")
    for k, (v, c, goal) in out.items():
        verdict = "" if goal is None or v is None else ("met" if v >= goal else "MISSED")
        print(f"  {k:<42} {v!s:>6} {c!s:>6}  {goal!s:>5}  {verdict}")
    return {k: {"ratio": v, "cpu_time_ratio": c, "target": goal} for k, (v, c, goal) in out.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.add_argument("--agents", type=int, nargs="+", default=[1, 16, 256, 4096])
    p.add_argument(
        "--seconds", type=float, default=1.0, help="measuring time per engine, N and round"
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds over all engines per N; each engine's best round (lowest p50) is kept",
    )
    p.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    p.add_argument("--no-peers", action="store_true", help="measure gazehead_rt only")
    p.add_argument(
        "--threads",
        type=int,
        default=2,
        help="also measure gazehead_rt with this many threads, fp32 and bf16 (extra columns; "
        "the comparison with the peers stays single-threaded); 1: one thread only",
    )
    p.add_argument(
        "--call-forms",
        action="store_true",
        help="only the Python call forms at N = 1 (step with and without out=, update)",
    )
    args = p.parse_args(argv)
    if args.call_forms:
        import gazehead_rt as gh

        return call_forms(args.model or gh.default_model_path(), args.seconds)

    import torch

    import gazehead_rt as gh
    from gazehead_rt.model_file import INPUT_SIZE
    from gazehead_rt.training.model import GazeHeadModel

    torch.set_num_threads(1)
    path = args.model or gh.default_model_path()
    ref = GazeHeadModel.load(path).eval()
    H, Z = ref.config.hidden_size, ref.config.latent_size
    ort_sess = None
    if not args.no_peers:
        import onnxruntime as ort

        step_mod = TorchStep(ref)
        onnx_path = os.path.join(tempfile.mkdtemp(), "step.onnx")
        n0 = 2
        ex = (
            torch.zeros(n0, 2),
            torch.zeros(n0, H),
            torch.zeros(n0, 3),
            torch.zeros(n0, 3),
            torch.zeros(n0, Z),
            torch.zeros(n0, 2),
            torch.ones(n0),
            torch.zeros(n0, 2),
            torch.zeros(n0, Z),
        )
        names = ["gaze", "s", "head", "head_vel", "z", "gaze_prev", "has_prev", "style", "eps"]
        outs = ["head_out", "eye_out", "s_out", "head_vel_out", "z_out"]
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL

        def ort_session(module, example, path, inputs, outputs):
            """``module`` exported to ONNX (agent axis dynamic), in a one-thread session."""
            torch.onnx.export(
                module,
                example,
                path,
                input_names=inputs,
                output_names=outputs,
                dynamic_axes={k: {0: "n"} for k in inputs + outputs},
                opset_version=17,
                dynamo=False,
            )
            return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])

        ort_sess = ort_session(step_mod, ex, onnx_path, names, outs)
        net_mod = TorchNet(ref)
        net_path = os.path.join(tempfile.mkdtemp(), "net.onnx")
        ex = (torch.zeros(n0, INPUT_SIZE + Z), torch.zeros(n0, H), torch.zeros(n0, Z))
        ort_net = ort_session(net_mod, ex, net_path, ["enc_in", "s", "eps"], ["y", "s_out", "z"])

    rows = []
    rng = np.random.default_rng(0)
    for n in args.agents:
        gaze = rng.uniform(-0.3, 0.3, (n, 2)).astype(np.float32)
        gen = gh.Generator(path, num_agents=n, seed=0)
        out = np.empty((n, 3), np.float32)
        res = {"gazehead_rt_cpu": lambda: gen.step(gaze, out=out)}
        gen_bf16 = gh.Generator(path, num_agents=n, seed=0, weights_dtype="bfloat16")
        res["gazehead_rt_cpu_bf16"] = lambda: gen_bf16.step(gaze, out=out)
        if args.threads > 1:
            gen_t = gh.Generator(path, num_agents=n, seed=0, num_threads=args.threads)
            res[f"gazehead_rt_cpu_{args.threads}threads"] = lambda: gen_t.step(gaze, out=out)
            gen_tb = gh.Generator(
                path, num_agents=n, seed=0, num_threads=args.threads, weights_dtype="bfloat16"
            )
            res[f"gazehead_rt_cpu_bf16_{args.threads}threads"] = lambda: gen_tb.step(gaze, out=out)
        if not args.no_peers:
            g_t = torch.from_numpy(gaze)
            style = torch.from_numpy(gen.style)
            state = [
                torch.zeros(n, H),
                torch.zeros(n, 3),
                torch.zeros(n, 3),
                torch.zeros(n, Z),
                g_t.clone(),
                torch.ones(n),
                style,
            ]
            eps = torch.from_numpy(gh.philox_normal(0, np.arange(n), np.zeros(n), np.zeros(n), Z))

            def torch_step():
                with torch.no_grad():
                    h, e, s, v, z = step_mod(g_t, *state, eps)
                state[0], state[1], state[2], state[3] = s, h, v, z

            res["pytorch_eager"] = torch_step
            feeds = {
                "gaze": gaze,
                "s": np.zeros((n, H), np.float32),
                "head": np.zeros((n, 3), np.float32),
                "head_vel": np.zeros((n, 3), np.float32),
                "z": np.zeros((n, Z), np.float32),
                "gaze_prev": gaze.copy(),
                "has_prev": np.ones(n, np.float32),
                "style": gen.style,
                "eps": eps.numpy(),
            }

            def ort_step():
                h, e, s, v, z = ort_sess.run(None, feeds)
                feeds["s"], feeds["head"], feeds["head_vel"], feeds["z"] = s, h, v, z

            res["onnxruntime"] = ort_step

            # lean peers: the network only, and the network with the per-agent math in numpy
            host = LeanHost(ref, n, gen.style)
            enc_in = host.pre(gaze)
            net = {"enc_in": enc_in, "s": np.zeros((n, H), np.float32), "eps": eps.numpy()}

            def ort_net_only():
                y, s_new, z = ort_net.run(None, net)
                net["s"] = s_new

            def ort_lean():
                net["enc_in"] = host.pre(gaze)
                y, s_new, z = ort_net.run(None, net)
                net["s"] = s_new
                host.post(y, z)

            t_enc, t_s, t_eps = torch.from_numpy(enc_in), torch.zeros(n, H), eps

            def torch_net_only():
                with torch.no_grad():
                    net_mod(t_enc, t_s, t_eps)

            def torch_lean():
                with torch.no_grad():
                    y, s_new, z = net_mod(torch.from_numpy(host.pre(gaze)), t_s, t_eps)
                host.post(y.numpy(), z.numpy())

            res["onnxruntime_net_only"] = ort_net_only
            res["onnxruntime_lean"] = ort_lean
            res["pytorch_net_only"] = torch_net_only
            res["pytorch_lean"] = torch_lean
            res["gazehead_rt_readme_call"] = lambda: gen.step(gaze.astype(np.float64))
        # rounds over all engines, each engine's best round kept: on a shared machine other
        # work only ever slows a round down, and interleaving spreads it over the engines
        best = {}
        for _ in range(args.rounds):
            for name, fn in res.items():
                t = timeit(fn, args.seconds)
                if name not in best or np.median(t) < np.median(best[name]):
                    best[name] = t
        rows.append({"agents": n, **best})

    engines = [k for k in rows[0] if k != "agents"]
    has_peers = "onnxruntime" in engines
    print(f"\nstep latency, model {os.path.basename(path)}, {machine()['cpu']}, 1 thread each")
    print(
        f"{'N':>6} "
        + " ".join(f"{e + ' p50/p99 us':>34}" for e in engines)
        + ("   ratio vs ORT  vs torch" if has_peers else "")
    )
    summary = []
    for r in rows:
        cells, entry = [], {"agents": r["agents"]}
        for e in engines:
            p50, p99 = np.percentile(r[e], [50, 99])
            cells.append(f"{p50:>16.2f} / {p99:>14.2f}")
            entry[e] = {
                "p50_us": round(float(p50), 3),
                "p99_us": round(float(p99), 3),
                "cpu_us": round(float(r[e].cpu_us), 3),
                "agent_steps_per_s": round(r["agents"] / (p50 * 1e-6)),
                "samples": len(r[e]),
            }
        line = f"{r['agents']:>6} " + " ".join(f"{c:>34}" for c in cells)
        if has_peers:
            ours = entry["gazehead_rt_cpu"]["p50_us"]
            entry["speedup_vs_onnxruntime"] = round(entry["onnxruntime"]["p50_us"] / ours, 2)
            entry["speedup_vs_pytorch_eager"] = round(entry["pytorch_eager"]["p50_us"] / ours, 2)
            for peer in (
                "onnxruntime_net_only",
                "onnxruntime_lean",
                "pytorch_net_only",
                "pytorch_lean",
            ):
                entry[f"speedup_vs_{peer}"] = round(entry[peer]["p50_us"] / ours, 2)
                entry[f"bf16_speedup_vs_{peer}"] = round(
                    entry[peer]["p50_us"] / entry["gazehead_rt_cpu_bf16"]["p50_us"], 2
                )
            line += f"   {entry['speedup_vs_onnxruntime']:>8.2f}x {entry['speedup_vs_pytorch_eager']:>8.2f}x"
        print(line)
        summary.append(entry)
    roof = roofline(path, summary, args.threads)
    result = {
        "benchmark": "step_latency",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "build": {
            k: v for k, v in gh.build_info().items() if k in ("version", "compiler", "cpu_kernels")
        },
        "model": {
            "file": os.path.basename(path),
            "sha256": gh.load_model(path).sha256,
            "parameters": int(sum(v.size for v in gh.load_model(path).tensors.values())),
        },
        "versions": {
            "torch": torch.__version__,
            **({"onnxruntime": __import__("onnxruntime").__version__} if not args.no_peers else {}),
        },
        "timing": {
            "seconds_per_round": args.seconds,
            "rounds": args.rounds,
            "kept": "each engine's round with the lowest p50",
            "load_average_1_5_15": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "results": summary,
        "roofline": roof,
    }
    if has_peers:
        result["targets"] = targets(summary, args.threads)
    out_path = save_result(
        result, args.out, f"step_latency_{result['machine']['cpu'].split()[0].lower()}_cpu.json"
    )
    print(f"\nwrote {out_path} (peak RSS {result['peak_rss_mib']} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
