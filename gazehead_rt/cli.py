"""``gazehead-rt``: info, generate, bench, and the train/evaluate/extract/demo tools."""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
import zipfile
from collections.abc import Sequence
from typing import Callable

import numpy as np

from .files import one_line, read_gaze_file, write_atomically


# Subcommands implemented elsewhere, imported only when run: the learning side lives in
# gazehead_rt.training (the repository's training/ folder) and the demo in gazehead_rt.demo.
def _train_main():
    from .training.train import main  # noqa: PLC0415

    return main


def _evaluate_main():
    from .training.evaluate import main  # noqa: PLC0415

    return main


def _extract_main():
    from .training.extract.cli import main  # noqa: PLC0415

    return main


def _animate_main():
    from .portrait.cli import main  # noqa: PLC0415

    return main


def _demo_main():
    from .demo import main  # noqa: PLC0415

    return main


# command -> (loader of its main(argv) -> int, the package extra that brings its dependencies,
# the top-level modules that extra installs, help)
_Loader = Callable[[], Callable[[list[str]], int]]
_DELEGATED: dict[str, tuple[_Loader, str, tuple[str, ...], str]] = {
    "train": (
        _train_main,
        "train",
        ("torch", "tqdm", "matplotlib"),
        "train a model on sequence datasets",
    ),
    "evaluate": (
        _evaluate_main,
        "train",
        ("torch", "tqdm", "matplotlib"),
        "evaluate a model against baselines on held-out data",
    ),
    "extract": (
        _extract_main,
        "extract",
        ("mediapipe", "cv2", "matplotlib", "tqdm"),
        "extract gaze and head pose from face videos",
    ),
    "animate": (
        _animate_main,
        "portrait",
        ("mediapipe", "cv2", "moderngl", "imageio_ffmpeg"),
        "make a face photo look around: gaze in, face video out",
    ),
    "demo": (
        _demo_main,
        "demo",
        ("matplotlib", "PIL", "imageio_ffmpeg"),
        "render the default model driving a head (MP4 + PNG)",
    ),
}


def missing_extra(command: str, extra: str, module: str) -> str:
    """The one line a command prints when a module of its extra is not installed."""
    return (
        f"gazehead-rt {command}: needs {module}, which is not installed; "
        f'install the extra: pip install "gazehead_rt[{extra}]"'
    )


def _delegate(name: str) -> Callable[[list[str]], int]:
    load, extra, modules, _ = _DELEGATED[name]

    def run(argv: list[str]) -> int:
        try:
            return int(load()(argv) or 0)
        except ModuleNotFoundError as e:
            missing = (e.name or "").split(".")[0]
            if missing not in modules:  # not a missing extra: a real bug, keep its traceback
                raise
            print(missing_extra(name, extra, missing), file=sys.stderr)
            return 2

    return run


def _cmd_info(args: argparse.Namespace) -> int:
    import gazehead_rt as gh

    info = gh.build_info()
    print(f"gazehead_rt {info['version']}  ({info['compiler']}, {info['build_type']})")
    print(
        f"  CPU kernels     : {info['cpu_kernels']} (compiled: {', '.join(info['cpu_kernels_compiled'])})"
    )
    print(
        f"  CUDA            : option {info['cuda_option']}, built {info['cuda_built']} - {info['cuda_note']}"
    )
    print(
        f"  TensorRT        : option {info['tensorrt_option']}, built {info['tensorrt_built']} - {info['tensorrt_note']}"
    )
    print(f"  backends        : {', '.join(info['backends'])}")
    from .native_lib import native_include_dir, native_library_path

    lib = native_library_path()
    print(
        f"  C library       : {lib or 'not in this install (built with GAZEHEAD_BUILD_CAPI=OFF)'}"
    )
    if lib:
        print(
            f"  C header        : {os.path.join(native_include_dir() or '?', 'gazehead', 'gazehead.h')}"
        )
    path = args.model or gh.default_model_path()
    try:
        m = gh.load_model(path)
    except gh.ModelError as e:
        print(f"  model           : {e}")
        return 0 if args.model is None else 1
    c = m.config
    print(f"  model           : {m.path}")
    print(f"    sha256        : {m.sha256[:16]}...")
    print(
        f"    architecture  : enc {list(c.enc_sizes)} -> GRU {c.hidden_size} -> prior "
        f"{list(c.prior_sizes)} (Z={c.latent_size}) -> dec {list(c.dec_sizes)}, {c.activation}, "
        f"head velocity out, {c.fps:g} fps"
    )
    lim = ", ".join(f"{math.degrees(v):g}" for v in c.neck_limits)
    print(
        f"    neck limits   : ({lim}) deg (pitch, yaw, roll); eye limit "
        f"{math.degrees(c.eye_limit):g} deg; style population mean "
        f"({c.style_mean[0]:.2f}, {c.style_mean[1]:.2f}) std ({c.style_std[0]:.2f}, "
        f"{c.style_std[1]:.2f})"
    )
    for key in ("provenance", "metrics", "code_revision"):
        if key in m.metadata:
            val = m.metadata[key]
            text = json.dumps(val) if not isinstance(val, str) else val
            print(f"    {key:<14}: {text[:300]}{'...' if len(text) > 300 else ''}")
    card = os.path.join(os.path.dirname(m.path), "MODEL_CARD.md")
    if os.path.isfile(card):
        print(f"    model card    : {card}")
    return 0


def _write_result(path: str, gaze, head, eye, fps: float) -> None:
    write_atomically(path, lambda fd, _tmp: _write_to(fd, path, gaze, head, eye, fps))


def _write_to(fd: int, path: str, gaze, head, eye, fps: float) -> None:
    if path.endswith(".npz"):
        with os.fdopen(fd, "wb") as f:
            np.savez(f, gaze=gaze.astype(np.float32), head=head, eye=eye, fps=np.float32(fps))
    else:
        with os.fdopen(fd, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(
                [
                    "frame",
                    "time_s",
                    "agent",
                    "gaze_pitch",
                    "gaze_yaw",
                    "head_pitch",
                    "head_yaw",
                    "head_roll",
                    "eye_pitch",
                    "eye_yaw",
                ]
            )
            T, N, _ = head.shape
            for t in range(T):
                for a in range(N):
                    w.writerow(
                        [
                            t,
                            f"{t / fps:.6f}",
                            a,
                            *(f"{v:.7g}" for v in gaze[t, a]),
                            *(f"{v:.7g}" for v in head[t, a]),
                            *(f"{v:.7g}" for v in eye[t, a]),
                        ]
                    )


def _cmd_generate(args: argparse.Namespace) -> int:
    import gazehead_rt as gh

    gaze = read_gaze_file(args.gaze)
    if args.degrees:
        gaze = np.deg2rad(gaze)
    gen = gh.Generator(
        args.model,
        num_agents=gaze.shape[1],
        seed=args.seed,
        temperature=args.temperature,
        nan_policy=args.nan_policy,
    )
    head, eye = gen.generate(gaze, return_eye=True)
    _write_result(args.out, gaze, head, eye, gen.fps)
    print(f"wrote {args.out}: {head.shape[0]} frames x {head.shape[1]} agents at {gen.fps:g} fps")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    import gazehead_rt as gh

    print(f"step() latency, backend cpu, model {args.model or 'default'}")
    print(f"{'agents':>8} {'p50 us':>10} {'p99 us':>10} {'agent-steps/s':>15}")
    for n in args.agents:
        gen = gh.Generator(args.model, num_agents=n, seed=0)
        rng = np.random.default_rng(0)
        gaze = rng.uniform(-0.3, 0.3, (n, 2)).astype(np.float32)
        out = np.empty((n, 3), np.float32)
        budget_s = args.seconds / len(args.agents)
        t_end = time.perf_counter() + budget_s
        for _ in range(20):
            gen.step(gaze, out=out)
        samples = []
        while time.perf_counter() < t_end or len(samples) < 20:
            t0 = time.perf_counter_ns()
            gen.step(gaze, out=out)
            samples.append(time.perf_counter_ns() - t0)
        us = np.asarray(samples) / 1e3
        p50, p99 = np.percentile(us, [50, 99])
        print(f"{n:>8} {p50:>10.2f} {p99:>10.2f} {n / (p50 * 1e-6):>15.3g}")
    print("(full comparison with PyTorch and ONNX Runtime: python benchmarks/step_latency.py)")
    return 0


def _cmd_export_onnx(args: argparse.Namespace) -> int:
    import gazehead_rt as gh

    try:
        from .training.export_onnx import export_step_onnx  # noqa: PLC0415
    except ModuleNotFoundError as e:
        print(missing_extra("export-onnx", "bench", e.name or "onnx"), file=sys.stderr)
        return 2
    out = export_step_onnx(args.model or gh.default_model_path(), args.out, opset=args.opset)
    print(f"wrote {out}: one step for N agents, opset {args.opset}, {os.path.getsize(out)} bytes")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gazehead-rt", description=__doc__)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    s = sub.add_parser("info", help="build, backends and model card")
    s.add_argument("--model", help="model file (default: the bundled model)")
    s.set_defaults(func=_cmd_info)
    s = sub.add_parser("generate", help="offline: gaze sequence in, head motion out (CSV/NPZ)")
    s.add_argument(
        "--gaze", required=True, help="input .csv (gaze_pitch, gaze_yaw[, agent]) or .npz (gaze)"
    )
    s.add_argument("--out", required=True, help="output .csv or .npz")
    s.add_argument("--model", help="model file (default: the bundled model)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--nan-policy", choices=["raise", "hold"], default="raise")
    s.add_argument("--degrees", action="store_true", help="input angles are degrees")
    s.set_defaults(func=_cmd_generate)
    s = sub.add_parser("bench", help="quick step() latency of this build")
    s.add_argument("--model", help="model file (default: the bundled model)")
    s.add_argument("--agents", type=int, nargs="+", default=[1, 16, 256, 4096])
    s.add_argument("--seconds", type=float, default=4.0, help="total measuring time")
    s.set_defaults(func=_cmd_bench)
    s = sub.add_parser(
        "export-onnx", help="write the model's step as ONNX (state and noise explicit)"
    )
    s.add_argument("model", nargs="?", help="model file (default: the bundled model)")
    s.add_argument("-o", "--out", required=True, help="output .onnx file")
    s.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    s.set_defaults(func=_cmd_export_onnx)
    for name, (_, _, _, help_text) in _DELEGATED.items():
        s = sub.add_parser(name, help=help_text, add_help=False)
        s.set_defaults(delegate=name)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in _DELEGATED:
        return _delegate(argv[0])(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    import gazehead_rt as gh

    try:
        return int(args.func(args) or 0)
    except gh.BackendError as e:
        print(f"gazehead-rt {args.command}: error: {one_line(e)}", file=sys.stderr)
        return 1
    except (
        ValueError,
        TypeError,
        KeyError,
        gh.ModelError,
        OSError,
        csv.Error,
        zipfile.BadZipFile,
        MemoryError,
        OverflowError,
    ) as e:
        # bad input (file, values, options): one line, exit 2
        print(f"gazehead-rt {args.command}: error: {one_line(e)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
