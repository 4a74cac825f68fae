"""Per-step latency on a GPU: gazehead_rt cuda vs PyTorch CUDA eager vs PyTorch CUDA graphs
(docs/design.md §7, issue 5).

Every engine does the same round trip per frame: gaze (N, 2) from host memory up, the whole
step (encoder, GRUCell, prior, sampling, decoder, neck limit, eye), head (N, 3) back into host
memory, synchronized. The PyTorch peers run the reference step (training/model.py) with eps
given as an input; ours also draws the Philox noise in the kernel. Also measured: our cpu
backend at small N, to give the cpu/cuda crossover that backend="auto" uses.

    python benchmarks/gpu_step_latency.py                         # N = 1 ... 65536
    python benchmarks/gpu_step_latency.py --agents 1 4096 --seconds 1

Prints a table and writes JSON (with the device name) to benchmarks/results/.
Exits with status 2 when no CUDA device is usable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Appended, not prepended: gazehead_rt (with .training) comes from the installed package (the source
# tree has no compiled _C); only the benchmark and test helpers come from the checkout.
sys.path.append(os.path.join(ROOT, "benchmarks"))
sys.path.append(os.path.join(ROOT, "python_tests"))

# Peak DRAM bandwidth, GB/s, of common parts, for when the driver does not tell us.
KNOWN_PEAK_GBS = {
    "H200": 4800,
    "H100 SXM": 3350,
    "H100 80GB HBM3": 3350,
    "H100 PCIe": 2000,
    "H100 NVL": 3900,
    "A100-SXM4-80GB": 2039,
    "A100-SXM4-40GB": 1555,
    "A100 80GB PCIe": 1935,
    "A100-PCIE-40GB": 1555,
    "L40S": 864,
    "L4": 300,
    "A10": 600,
    "RTX 4090": 1008,
    "T4": 320,
}


def timeit(fn, seconds: float) -> np.ndarray:
    from step_latency import timeit as _timeit  # one timing loop for every benchmark

    # more warm-up and samples than on the CPU: graph instantiation and clocks settle slower
    return _timeit(fn, seconds, min_reps=50, warmup=20)


def peak_bandwidth_gbs(torch, name: str, override: float | None) -> tuple[float | None, str]:
    if override:
        return override, "--peak-gbs"
    props = torch.cuda.get_device_properties(0)
    clock_khz = getattr(props, "memory_clock_rate", None)
    bus_bits = getattr(props, "memory_bus_width", None)
    if clock_khz and bus_bits:
        return 2 * clock_khz * 1e3 * bus_bits / 8 / 1e9, "device properties (2 x clock x bus width)"
    for key, gbs in KNOWN_PEAK_GBS.items():
        if key in name:
            return float(gbs), f"datasheet value for {key}"
    return None, "unknown (pass --peak-gbs)"


def bytes_per_step(n: int, hidden: int, weight_bytes: int, latent: int = 8) -> int:
    """Compulsory DRAM traffic of one frame: state read and written once, gaze in, head and
    eye out, and the weights once (they are L2-resident across blocks)."""
    # s, head, head_vel, z, gaze_prev, style, has_prev, frame, episode
    state = 4 * (hidden + 3 + 3 + latent + 2 + 2) + 1 + 4 + 4
    per_agent = (
        state + (state - 4 - 8) + 4 * 2 + 4 * (3 + 2)
    )  # read, write (episode, style read only), io
    return n * per_agent + weight_bytes


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--model", help="model file (default: the bundled model, else a random one)")
    p.add_argument("--agents", type=int, nargs="+", default=[1, 16, 256, 4096, 65536])
    p.add_argument("--seconds", type=float, default=2.0, help="measuring time per engine and N")
    p.add_argument("--weights-dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    p.add_argument("--peak-gbs", type=float, help="device peak DRAM bandwidth, GB/s")
    p.add_argument("--no-peers", action="store_true", help="measure gazehead_rt only")
    p.add_argument("--no-crossover", action="store_true", help="skip the cpu/cuda crossover scan")
    p.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    args = p.parse_args(argv)

    import gazehead_rt as gh

    if "cuda" not in gh.available_backends():
        from gazehead_rt._native import native

        cfg = native().build_config()
        why = native().cuda_device_status() if cfg["cuda_built"] else cfg["cuda_note"]
        print(
            f"gpu_step_latency: no usable CUDA backend ({why}); this benchmark needs an NVIDIA "
            "GPU and a build with GAZEHEAD_CUDA=AUTO|ON and nvcc present",
            file=sys.stderr,
        )
        return 2
    import torch

    if not args.no_peers and not torch.cuda.is_available():
        print(
            "gpu_step_latency: torch has no CUDA (install a CUDA build of torch, or pass "
            "--no-peers)",
            file=sys.stderr,
        )
        return 2
    from gazehead_rt._native import native
    from gazehead_rt.training.model import GazeHeadModel

    path = args.model or gh.default_model_path()
    if not os.path.isfile(path):
        from reference import make_model  # no bundled model yet: a random one of the default size

        path = os.path.join(args.out, "_bench_model.safetensors")
        os.makedirs(args.out, exist_ok=True)
        make_model(path, seed=0)
    loaded = gh.load_model(path)
    ref = GazeHeadModel.load(path).eval()
    H, Z = ref.config.hidden_size, ref.config.latent_size
    n_params = int(sum(v.size for k, v in loaded.tensors.items() if not k.startswith("post.")))
    wbytes = n_params * {"float32": 4, "bfloat16": 2, "float16": 2}[args.weights_dtype]
    device_name = native().cuda_device_name(0)
    peak, peak_src = peak_bandwidth_gbs(torch, device_name, args.peak_gbs)

    if not args.no_peers:
        from step_latency import TorchStep

        step_mod = TorchStep(ref).cuda()

    rows = []
    rng = np.random.default_rng(0)
    for n in args.agents:
        gaze = rng.uniform(-0.3, 0.3, (n, 2)).astype(np.float32)
        gen = gh.Generator(
            path, num_agents=n, backend="cuda", seed=0, weights_dtype=args.weights_dtype
        )
        out = np.empty((n, 3), np.float32)
        res = {
            "agents": n,
            "gazehead_rt_cuda": timeit(lambda: gen.step(gaze, out=out), args.seconds),
        }

        def overlap():  # the async pair, as a game would use it around its own frame work
            gen.step_async(gaze)
            gen.result(out=out)

        res["gazehead_rt_cuda_async_pair"] = timeit(overlap, args.seconds / 2)
        gen = None  # free the device state before the next size
        if not args.no_peers:
            dev = torch.device("cuda")
            g_host = torch.from_numpy(gaze).pin_memory()
            h_host = torch.empty((n, 3)).pin_memory()
            eps = torch.from_numpy(
                gh.philox_normal(0, np.arange(n), np.zeros(n), np.zeros(n), Z)
            ).to(dev)
            g_dev = g_host.to(dev)
            style = torch.full((n, 2), 0.5, device=dev)
            state = [
                torch.zeros(n, H, device=dev),
                torch.zeros(n, 3, device=dev),
                torch.zeros(n, 3, device=dev),
                torch.zeros(n, Z, device=dev),
                g_dev.clone(),
                torch.ones(n, device=dev),
                style,
            ]

            def torch_eager():
                with torch.no_grad():
                    g_dev.copy_(g_host, non_blocking=True)
                    h, e, s, v, z = step_mod(g_dev, *state, eps)
                    state[0], state[1], state[2], state[3] = s, h, v, z
                    h_host.copy_(h, non_blocking=True)
                torch.cuda.synchronize()

            res["pytorch_cuda_eager"] = timeit(torch_eager, args.seconds)

            static = [t.clone() for t in state]
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side), torch.no_grad():
                for _ in range(3):  # warm-up before capture, as torch.cuda.graphs requires
                    step_mod(g_dev, *static, eps)
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph), torch.no_grad():
                g_dev.copy_(g_host, non_blocking=True)
                h, e, s, v, z = step_mod(g_dev, *static, eps)
                static[0].copy_(s)
                static[1].copy_(h)
                static[2].copy_(v)
                static[3].copy_(z)
                h_host.copy_(h, non_blocking=True)

            def torch_graph():
                graph.replay()
                torch.cuda.synchronize()

            res["pytorch_cuda_graph"] = timeit(torch_graph, args.seconds)
            del graph
            torch.cuda.empty_cache()
        rows.append(res)

    crossover = None
    if not args.no_crossover:
        scan = {}
        for n in (1, 2, 4, 8, 16, 32, 64):
            gaze = rng.uniform(-0.3, 0.3, (n, 2)).astype(np.float32)
            out = np.empty((n, 3), np.float32)
            t = {}
            for b in ("cpu", "cuda"):
                g = gh.Generator(path, num_agents=n, backend=b)
                t[b] = float(np.median(timeit(lambda: g.step(gaze, out=out), 0.3)))
            scan[n] = t
        faster = [n for n, t in scan.items() if t["cuda"] < t["cpu"]]
        crossover = {
            "scan_p50_us": scan,
            "cuda_faster_from_agents": min(faster) if faster else None,
        }

    engines = [k for k in rows[0] if k != "agents"]
    print(
        f"\nGPU step round trip (host gaze in, host head out), {device_name}, "
        f"weights {args.weights_dtype}, model {os.path.basename(path)} ({n_params} parameters)"
    )
    print(
        f"{'N':>6} "
        + " ".join(f"{e + ' p50/p99 us':>36}" for e in engines)
        + "  Magent-steps/s  GB/s (% peak)  vs eager  vs graph"
    )
    summary = []
    for r in rows:
        entry, cells = {"agents": r["agents"]}, []
        for e in engines:
            p50, p99 = np.percentile(r[e], [50, 99])
            cells.append(f"{p50:>17.2f} / {p99:>15.2f}")
            entry[e] = {
                "p50_us": round(float(p50), 3),
                "p99_us": round(float(p99), 3),
                "agent_steps_per_s": round(r["agents"] / (p50 * 1e-6)),
                "samples": len(r[e]),
            }
        ours = entry["gazehead_rt_cuda"]["p50_us"]
        gbs = bytes_per_step(r["agents"], H, wbytes, Z) / (ours * 1e-6) / 1e9
        entry["achieved_dram_gbs"] = round(gbs, 1)
        entry["fraction_of_peak_bandwidth"] = round(gbs / peak, 4) if peak else None
        line = (
            f"{r['agents']:>6} "
            + " ".join(f"{c:>36}" for c in cells)
            + f"  {entry['gazehead_rt_cuda']['agent_steps_per_s'] / 1e6:>14.2f}"
            + f"  {gbs:>7.1f} "
            + (f"({100 * gbs / peak:.1f}%)" if peak else "(peak ?)")
        )
        if not args.no_peers:
            entry["speedup_vs_pytorch_cuda_eager"] = round(
                entry["pytorch_cuda_eager"]["p50_us"] / ours, 2
            )
            entry["speedup_vs_pytorch_cuda_graph"] = round(
                entry["pytorch_cuda_graph"]["p50_us"] / ours, 2
            )
            line += (
                f"  {entry['speedup_vs_pytorch_cuda_eager']:>7.2f}x"
                f"  {entry['speedup_vs_pytorch_cuda_graph']:>7.2f}x"
            )
        print(line)
        summary.append(entry)
    if crossover:
        print(
            f"\ncpu/cuda crossover: cuda is faster from N = {crossover['cuda_faster_from_agents']} "
            "(gazehead_rt.generator.CUDA_CROSSOVER_AGENTS should match)"
        )
    targets = {
        "n1_step_p50_us_max": 15.0,
        "n65536_step_p50_us_max": 250.0,
        "speedup_vs_pytorch_cuda_eager_at_n1_min": 10.0,
    }
    result = {
        "benchmark": "gpu_step_latency",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "device": {
            "name": device_name,
            "torch_name": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "peak_dram_gbs": peak,
            "peak_source": peak_src,
        },
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "logical_cpus": os.cpu_count(),
        },
        "build": {
            k: v
            for k, v in gh.build_info().items()
            if k in ("version", "compiler", "cuda_note", "cuda_architectures", "cpu_kernels")
        },
        "weights_dtype": args.weights_dtype,
        "model": {"file": os.path.basename(path), "sha256": loaded.sha256, "parameters": n_params},
        "versions": {"torch": torch.__version__, "torch_cuda": torch.version.cuda},
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "targets_issue5": targets,
        "results": summary,
        "crossover": crossover,
    }
    from step_latency import save_result

    slug = "".join(c if c.isalnum() else "_" for c in device_name.split(" (")[0]).strip("_").lower()
    out_path = save_result(result, args.out, f"gpu_step_latency_{slug}.json")
    print(f"\nwrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
