"""``gazehead-rt animate PHOTO (--gaze F | --script NAME) -o out.mp4``: a photo looks around."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from .video import SCRIPTS, BlinkSchedule


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gazehead-rt animate",
        description="Drive a face photo with the model: gaze in, head and eyes out, face "
        "video out (plus the per-frame head and eyes as CSV beside the video).",
    )
    p.add_argument("photo", help="a photo with one face, ideally frontal (jpg, png, ...)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--gaze", help="gaze sequence at the model rate: .csv (gaze_pitch, gaze_yaw) or .npz"
    )
    src.add_argument("--script", choices=sorted(SCRIPTS), help="a built-in gaze script")
    p.add_argument("-o", "--out", required=True, help="output video (.mp4)")
    p.add_argument("--degrees", action="store_true", help="--gaze angles are degrees")
    p.add_argument("--model", default=None, help="model file (default: the bundled model)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default: %(default)s)")
    p.add_argument("--temperature", type=float, default=1.0, help="prior temperature")
    p.add_argument("--size", type=int, default=512, help="frame size in pixels (default 512)")
    p.add_argument(
        "--backend",
        choices=("auto", "opengl", "opencv"),
        default="auto",
        help="renderer (default: OpenGL where a headless context exists, else OpenCV)",
    )
    p.add_argument(
        "--blinks",
        type=float,
        nargs="?",
        const=17.0,
        default=0.0,
        metavar="PER_MIN",
        help="spontaneous blinks, PER_MIN a minute (default when given: 17)",
    )
    p.add_argument(
        "--side-by-side", action="store_true", help="the generator's numbers next to the face"
    )
    p.add_argument("--preview", action="store_true", help="also write a contact sheet (.png)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    import gazehead_rt as gh  # noqa: PLC0415

    from ..files import one_line, read_gaze_file  # noqa: PLC0415
    from .animator import PortraitAnimator  # noqa: PLC0415
    from .landmarks import NoFaceError  # noqa: PLC0415
    from .raster import GLUnavailableError  # noqa: PLC0415
    from .video import perform, write_animation  # noqa: PLC0415

    try:
        if not args.out.lower().endswith(".mp4"):
            raise ValueError(f"--out {args.out}: the output video must be an .mp4 file")
        gen = gh.Generator(args.model, seed=args.seed, temperature=args.temperature)
        if args.gaze is not None:
            g = read_gaze_file(args.gaze)
            if g.shape[1] != 1:
                raise ValueError(f"{args.gaze}: one agent expected, got {g.shape[1]}")
            gaze = np.deg2rad(g[:, 0]) if args.degrees else g[:, 0]
            if not np.all(np.isfinite(gaze)):
                raise ValueError(f"{args.gaze}: gaze must be finite")
        else:
            gaze = SCRIPTS[args.script](gen.fps)
        with PortraitAnimator(args.photo, size=args.size, backend=args.backend) as anim:
            perf = perform(anim, gaze, generator=gen, blinks=BlinkSchedule(args.blinks, args.seed))
            paths = write_animation(
                anim, perf, args.out, side_by_side=args.side_by_side, preview=args.preview
            )
            backend = anim.backend
    except (ValueError, TypeError, OSError, gh.ModelError, NoFaceError, GLUnavailableError) as e:
        print(f"gazehead-rt animate: error: {one_line(e)}", file=sys.stderr)
        return 2
    print(
        f"wrote {', '.join(paths.values())}: {len(gaze)} frames at {perf.fps:g} fps, "
        f"{args.size}x{args.size}, {backend} renderer"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
