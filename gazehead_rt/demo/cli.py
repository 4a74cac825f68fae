"""The ``gazehead-rt demo`` command line (also ``python -m gazehead_rt.demo``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .interactive import run_interactive
from .video import DEFAULT_OUT_DIR, _have_ffmpeg, run_demo


# -- command line ---------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gazehead-rt demo",
        description="Render the learned head motion next to the proportional baseline "
        "(video + contact sheet), or follow the mouse with --interactive.",
    )
    p.add_argument("--out", default=DEFAULT_OUT_DIR, help="output folder (default: %(default)s)")
    p.add_argument("--model", default=None, help="model file (default: the bundled model)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default: %(default)s)")
    p.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="prior temperature, 0 = mean motion (default: %(default)s)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="S",
        help="cut the script after S seconds (default: all of it, 13.5 s)",
    )
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="frame size factor of 1024x768 (default: %(default)s)",
    )
    p.add_argument(
        "--format",
        choices=("auto", "mp4", "gif"),
        default="auto",
        help="video format; auto = mp4 when imageio-ffmpeg is installed",
    )
    p.add_argument("--no-video", action="store_true", help="write only the sheet and the CSV")
    p.add_argument(
        "--styles",
        default=None,
        metavar="P1,P2",
        help="style demo: two characters with head-movement propensities P1 and P2 "
        "(e.g. 0.3,0.9: an eye mover next to a head mover) instead of the baseline",
    )
    p.add_argument(
        "--interactive", action="store_true", help="open a window; the mouse is the gaze target"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``gazehead-rt demo``; returns the process exit code."""
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    # the demo extra, imported up front so that a missing package stops the command before it
    # renders anything (`gazehead-rt demo` turns the error into an install hint)
    import matplotlib  # noqa: F401, PLC0415
    import PIL  # noqa: F401, PLC0415

    if args.interactive:
        return run_interactive(model=args.model, seed=args.seed, temperature=args.temperature)
    if not 0.2 <= args.scale <= 2.0:
        print(f"gazehead-rt demo: --scale must be in [0.2, 2], got {args.scale}", file=sys.stderr)
        return 2
    if args.format == "mp4" and not _have_ffmpeg():
        print(
            "gazehead-rt demo: --format mp4 needs imageio-ffmpeg "
            '(pip install "gazehead_rt[demo]"); use --format gif',
            file=sys.stderr,
        )
        return 2
    styles = None
    if args.styles is not None:
        try:
            styles = tuple(float(x) for x in args.styles.split(","))
        except ValueError:
            styles = ()
        if len(styles) != 2:
            print(
                f"gazehead-rt demo: --styles expects two numbers P1,P2, got {args.styles!r}",
                file=sys.stderr,
            )
            return 2
    run_demo(
        args.out,
        model=args.model,
        seed=args.seed,
        temperature=args.temperature,
        duration_s=args.duration,
        scale=args.scale,
        fmt=args.format,
        video=not args.no_video,
        styles=styles,
    )
    return 0
