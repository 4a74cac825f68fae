"""``gazehead-rt extract VIDEO_OR_DIR... -o DATASET`` (also ``python -m training.extract``)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .pipeline import ExtractConfig

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    d = ExtractConfig()
    p = argparse.ArgumentParser(
        prog="gazehead-rt extract",
        description="Face videos -> gaze and head-pose sequences (docs/design.md §3 dataset). "
        'Needs the "extract" extra: pip install "gazehead_rt[extract]".',
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="VIDEO_OR_DIR",
        help="video files, or folders searched for videos",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="DATASET",
        help="dataset folder (created; clips and manifest.json go here)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="parallel videos (default: CPU count); with --executor ray and no "
        "--ray-address, the CPUs of the local Ray",
    )
    p.add_argument(
        "--executor",
        choices=["process", "ray"],
        default="process",
        help="process: a local process pool; ray: one Ray task per video",
    )
    p.add_argument(
        "--ray-address",
        default=None,
        help="Ray cluster address, e.g. 'auto' or 'ray://host:10001' "
        "(default: start a local single-node Ray)",
    )
    p.add_argument(
        "--preview",
        action="store_true",
        help="also write previews/<video>.png (frames with head axes and gaze "
        "arrows, and the time series)",
    )
    p.add_argument("--force", action="store_true", help="re-extract finished videos too")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--split",
        choices=["train", "val", "test"],
        default=None,
        help="split of all clips (default: by a hash of the video name)",
    )
    p.add_argument("--fps", type=float, default=d.fps_out, help="dataset frame rate")
    p.add_argument(
        "--focal-factor",
        type=float,
        default=d.focal_factor,
        help="focal length as a multiple of the image's longer side",
    )
    p.add_argument(
        "--max-gap-s",
        type=float,
        default=d.max_gap_s,
        help="longest gap that is interpolated (seconds)",
    )
    p.add_argument("--min-track-s", type=float, default=d.min_track_s)
    p.add_argument(
        "--head-sigma-s",
        type=float,
        default=d.head_sigma_s,
        help="head smoothing, Gaussian sigma (seconds; zero lag)",
    )
    p.add_argument(
        "--gaze-sigma-s",
        type=float,
        default=d.gaze_sigma_s,
        help="gaze smoothing, Gaussian sigma (seconds; zero lag)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    return p


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    cfg = ExtractConfig(
        fps_out=a.fps,
        focal_factor=a.focal_factor,
        max_gap_s=a.max_gap_s,
        min_track_s=a.min_track_s,
        head_sigma_s=a.head_sigma_s,
        gaze_sigma_s=a.gaze_sigma_s,
    )
    try:  # fail early and clearly when the extra is missing, before any worker starts
        from .landmarks import _import_cv2, _import_mediapipe  # noqa: PLC0415

        _import_mediapipe()
        _import_cv2()
    except ImportError as e:
        print(f"gazehead-rt extract: error: {e}", file=sys.stderr)
        return 2
    missing = [p for p in a.inputs if not os.path.exists(p)]
    if missing:
        print(
            f"gazehead-rt extract: error: no such file or folder: {', '.join(missing)}",
            file=sys.stderr,
        )
        return 2
    from .pipeline import extract_dataset  # noqa: PLC0415

    try:
        s = extract_dataset(
            a.inputs,
            a.output,
            cfg,
            workers=a.workers,
            executor=a.executor,
            ray_address=a.ray_address,
            preview=a.preview,
            force=a.force,
            progress=not a.no_progress,
            split=a.split,
        )
    except RuntimeError as e:  # e.g. Ray requested but not installed
        print(f"gazehead-rt extract: error: {e}", file=sys.stderr)
        return 2
    if a.json:
        print(
            json.dumps(
                {k: v for k, v in s.items() if k != "results"}
                | {
                    "videos_detail": [
                        {k: v for k, v in r.items() if k != "traceback"} for r in s["results"]
                    ]
                },
                indent=1,
            )
        )
    else:
        for r in sorted(s["results"], key=lambda r: r["video_id"]):
            if r["status"] == "done":
                print(
                    f"{r['video_id']:<44} done     {r['clips']} clip(s)  valid "
                    f"{r['valid_fraction']:6.1%}  {r['frames'] / r['extract_seconds']:6.1f} frames/s"
                )
            elif r["status"] == "skipped":
                print(f"{r['video_id']:<44} skipped  (already extracted)")
            else:
                print(f"{r['video_id']:<44} FAILED   {r['error']}")
        print(
            f"dataset {s['out_dir']}: {s['clips']} clip(s), {s['frames']} frames at "
            f"{cfg.fps_out:g} fps, valid {s['valid_fraction']:.1%}; {s['failed']} failed"
        )
    return 1 if s["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
