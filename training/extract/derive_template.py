"""Re-derive the face template from face videos: ``python -m training.extract.derive_template``.

A tool, kept apart from ``template`` (the loader every stage uses), so that the template
module depends on nothing but ``landmarks`` and the extraction modules import in one direction.
"""

from __future__ import annotations

import argparse
import glob
import os

import numpy as np

from ..paths import shared_videos_dir
from .gaze import IRIS_SPHERE_RADIUS_MM
from .landmarks import FaceMeshDetector, iter_frames  # MediaPipe itself loads on first use
from .template import TEMPLATE_PATH, derive_template


def _collect(video_paths: list[str], every: int) -> list[np.ndarray]:
    out = []
    for p in video_paths:
        rows = []
        with FaceMeshDetector() as det:
            for i, frame in iter_frames(p):
                lm = det.process(frame)
                if lm is not None and i % every == 0:
                    rows.append(lm)
        if rows:
            out.append(np.stack(rows))
        print(f"{os.path.basename(p)}: {len(rows)} frames")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Re-derive the face template from face videos.")
    ap.add_argument("videos", nargs="*", help="videos (default: the shared clips)")
    ap.add_argument("--every", type=int, default=3, help="use every N-th frame")
    ap.add_argument("-o", "--output", default=TEMPLATE_PATH)
    a = ap.parse_args(argv)
    paths = a.videos or sorted(glob.glob(os.path.join(shared_videos_dir(), "*.mp4")))
    t = derive_template(_collect(paths, a.every), IRIS_SPHERE_RADIUS_MM)
    t.save(a.output)
    print(
        f"wrote {a.output}: {len(t.stable)} stable landmarks; eyeball centres (mm) "
        f"{np.round(t.eyeball_centres_mm, 1).tolist()}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
