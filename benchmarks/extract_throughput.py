"""Extraction throughput, frames per second per CPU core, by stage.

Pins this process to one core (``os.sched_setaffinity``) so the figure is per core whatever
threads MediaPipe/XNNPACK start, then times each stage of ``training.extract`` over the
given clips (default: every shared clip, first ``--max-frames`` frames each):

    decode      OpenCV decode of the frame (+ histogram for cut detection)
    landmarks   MediaPipe face mesh with iris (BGR->RGB included)
    pose+eyes   PnP head fit and eyeball model
    tracks      tracks, masks, filters, resampling (whole video at once)

    python benchmarks/extract_throughput.py [VIDEO ...] [--max-frames N]

Output: a table on stdout and JSON in benchmarks/results/extract_throughput_<host>.json.
Information, not a pass/fail test (docs/design.md §7).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import socket
import sys
import time

import numpy as np

from gazehead_rt.training.extract.estimate import RawFrames
from gazehead_rt.training.extract.gaze import estimate_eyes
from gazehead_rt.training.extract.head_pose import CameraModel, fit_head_pose
from gazehead_rt.training.extract.landmarks import EYE_LEFT, EYE_RIGHT, FaceMeshDetector, open_video
from gazehead_rt.training.extract.template import load_template
from gazehead_rt.training.extract.tracks import ExtractConfig, process_raw
from gazehead_rt.training.paths import shared_videos_dir


def _time_video(path: str, max_frames: int, det: FaceMeshDetector) -> dict:
    import cv2

    tmpl = load_template()
    obj = tmpl.points_mm[tmpl.stable]
    cap, info = open_video(path)
    cam = CameraModel.for_image(info.width_px, info.height_px)
    t = {"decode": 0.0, "landmarks": 0.0, "pose+eyes": 0.0}
    rows, prev, n = [], None, 0
    det.reset()
    while n < max_frames:
        t0 = time.perf_counter()
        ok, frame = cap.read()
        if not ok:
            break
        small = cv2.resize(frame, (64, 64), interpolation=cv2.INTER_AREA)
        cv2.calcHist([cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)], [0], None, [32], [0, 256])
        t1 = time.perf_counter()
        lm = det.process(frame)
        t2 = time.perf_counter()
        if lm is not None:
            prev = fit_head_pose(lm[tmpl.stable, :2], obj, cam, prev)
            eyes = estimate_eyes(lm, prev, tmpl, cam)
            rows.append((prev, eyes, lm))
        t3 = time.perf_counter()
        t["decode"] += t1 - t0
        t["landmarks"] += t2 - t1
        t["pose+eyes"] += t3 - t2
        n += 1
    cap.release()
    # the track stage on real per-frame data (all frames found: rows is dense here)
    m = len(rows)
    raw = RawFrames(
        path=path,
        fps=info.fps,
        width_px=info.width_px,
        height_px=info.height_px,
        camera=cam,
        start=0,
        found=np.ones(m, bool),
        R_ct=np.stack([r[0].R_ct for r in rows]),
        t_c_mm=np.stack([r[0].t_c_mm for r in rows]),
        rms_px=np.array([r[0].reprojection_rms_px for r in rows]),
        iod_px=np.array(
            [
                np.linalg.norm(r[2][EYE_LEFT["outer"], :2] - r[2][EYE_RIGHT["outer"], :2])
                for r in rows
            ]
        ),
        centre_px=np.tile([info.width_px / 2, info.height_px / 2], (m, 1)),
        in_image=np.ones(m),
        eye_dir_h=np.stack([r[1].dir_h for r in rows]),
        eye_hit=np.stack([r[1].hit for r in rows]),
        openness=np.stack([r[1].openness for r in rows]),
        visibility=np.stack([r[1].visibility for r in rows]),
        scene_cut=np.zeros(m, bool),
        iris_px=np.zeros((m, 2, 2)),
    )
    t0 = time.perf_counter()
    process_raw(raw, ExtractConfig())
    t["tracks"] = time.perf_counter() - t0
    return {
        "video": os.path.basename(path),
        "frames": n,
        "size": [info.width_px, info.height_px],
        "seconds": t,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("videos", nargs="*")
    ap.add_argument("--max-frames", type=int, default=300)
    ap.add_argument(
        "--core", type=int, default=None, help="CPU to pin to (default: the first allowed)"
    )
    a = ap.parse_args()
    paths = a.videos or sorted(glob.glob(os.path.join(shared_videos_dir(), "*.mp4")))
    if not paths:
        print(f"no videos (looked in {shared_videos_dir()})", file=sys.stderr)
        return 2
    core = a.core if a.core is not None else min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})  # before MediaPipe starts its threads
    det = FaceMeshDetector()
    per_video = [_time_video(p, a.max_frames, det) for p in paths]
    det.close()
    frames = sum(v["frames"] for v in per_video)
    stages = ["decode", "landmarks", "pose+eyes", "tracks"]
    tot = {s: sum(v["seconds"][s] for v in per_video) for s in stages}
    total = sum(tot.values())
    print(
        f"{len(paths)} videos, {frames} frames, pinned to CPU {core} "
        f"({platform.processor() or platform.machine()})"
    )
    print(f"{'stage':<12}{'ms/frame':>10}{'frames/s':>12}{'share':>8}")
    for s in stages:
        print(
            f"{s:<12}{1e3 * tot[s] / frames:>10.2f}{frames / tot[s]:>12.1f}{tot[s] / total:>8.0%}"
        )
    print(
        f"{'total':<12}{1e3 * total / frames:>10.2f}{frames / total:>12.1f}   "
        f"<- frames/s per core, end to end"
    )
    out = {
        "frames": frames,
        "core": core,
        "frames_per_s_per_core": frames / total,
        "ms_per_frame": {s: 1e3 * tot[s] / frames for s in stages},
        "machine": {
            "host": socket.gethostname(),
            "cpu": platform.processor(),
            "python": platform.python_version(),
            "cpus_visible": os.cpu_count(),
        },
        "per_video": per_video,
    }
    res_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(res_dir, exist_ok=True)
    path = os.path.join(res_dir, f"extract_throughput_{socket.gethostname()}.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
