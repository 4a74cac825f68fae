"""Portrait animator frame rate on one CPU core, both renderers, against the lean peer.

    python benchmarks/portrait_fps.py [PHOTO] [--size 512] [--frames 300]

PHOTO defaults to scikit-image's astronaut portrait (public domain, bundled with
scikit-image). The process is pinned to one core (``os.sched_setaffinity``), OpenCV runs one
thread and Mesa's llvmpipe one thread (``LP_NUM_THREADS=1``, set before the OpenGL context
exists), so the figures are per core. Each renderer draws the same 12 s gaze script (head
and eyes from the default model, precomputed), frame by frame; the time is the whole
``render()`` call: lids, mesh, rasterization, irises.

The peer is what a user builds without this library: the classic OpenCV face warp, one
``cv2.warpAffine`` per triangle of the same mesh into its bounding box, blended through a
triangle mask, far triangles first (the usual face-morph recipe), with the same lids and
irises. Output: a table and benchmarks/results/portrait_fps_<host>.json. Information, not
a pass/fail test (docs/design.md §7).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import time

os.environ.setdefault("LP_NUM_THREADS", "1")  # llvmpipe: one rendering thread

import numpy as np  # noqa: E402

from gazehead_rt.portrait import GLUnavailableError, PortraitAnimator  # noqa: E402
from gazehead_rt.portrait.video import glance_script, numbers_panel, perform  # noqa: E402


class _PerTriangleWarp:
    """The lean peer: per-triangle cv2.warpAffine + mask blend, painter's order."""

    name = "per-triangle warpAffine (peer)"

    def __init__(self, texture, uv, tris):
        import cv2

        self.cv2 = cv2
        self.texture = texture
        self.uv = uv.astype(np.float32)
        self.tris = tris
        self.size = texture.shape[0]

    def render(self, xy, depth, visible):
        cv2 = self.cv2
        out = self.texture.copy()
        idx = np.nonzero(visible)[0]
        order = idx[np.argsort(-depth[self.tris[idx]].mean(1), kind="stable")]
        for t in order:
            src = self.uv[self.tris[t]]
            dst = xy[self.tris[t]].astype(np.float32)
            x, y, w, h = cv2.boundingRect(dst)
            if w <= 0 or h <= 0:
                continue
            x0, y0 = max(x, 0), max(y, 0)
            x1, y1 = min(x + w, self.size), min(y + h, self.size)
            if x1 <= x0 or y1 <= y0:
                continue
            A = cv2.getAffineTransform(src, (dst - (x0, y0)).astype(np.float32))
            patch = cv2.warpAffine(
                self.texture,
                A,
                (x1 - x0, y1 - y0),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT_101,
            )
            mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
            cv2.fillConvexPoly(
                mask, np.round((dst - (x0, y0)) * 16).astype(np.int32), 1, cv2.LINE_8, 4
            )
            roi = out[y0:y1, x0:x1]
            np.copyto(roi, patch, where=mask[..., None].astype(bool))
        return out

    def close(self):
        pass


def _photo(path: str | None) -> np.ndarray | str:
    if path:
        return path
    from skimage import data  # noqa: PLC0415 - the default photo only

    return data.astronaut()


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("photo", nargs="?", help="face photo (default: scikit-image's astronaut)")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--frames", type=int, default=300, help="frames timed per renderer")
    ap.add_argument("--out", default=None, help="JSON path (default: benchmarks/results/...)")
    args = ap.parse_args()
    import cv2

    core = sorted(os.sched_getaffinity(0))[0]
    os.sched_setaffinity(0, {core})
    cv2.setNumThreads(1)
    photo = _photo(args.photo)
    results = []
    gl_renderer = None
    perf = None
    for backend in ("opengl", "opencv", "peer"):
        try:
            anim = PortraitAnimator(
                photo, size=args.size, backend="opencv" if backend == "peer" else backend
            )
        except GLUnavailableError as e:
            print(f"{backend}: skipped ({e})")
            continue
        if backend == "peer":
            anim._rasterizer = _PerTriangleWarp(anim.rig.texture, anim.rig.uv, anim.rig.tris)
        elif backend == "opengl":
            info = anim._rasterizer.ctx.info
            gl_renderer = f"{info['GL_RENDERER']} ({info['GL_VERSION']})"
        if perf is None:
            perf = perform(anim, glance_script(30.0))
        n = min(args.frames, len(perf.gaze))
        for i in range(10):  # warm-up
            anim.render(perf.drawn_head[i], perf.drawn_eye[i])
        ms = []
        for i in range(n):
            t0 = time.perf_counter()
            anim.render(perf.drawn_head[i], perf.drawn_eye[i])
            ms.append((time.perf_counter() - t0) * 1e3)
        panel_ms = []
        for i in range(min(n, 60)):
            t0 = time.perf_counter()
            numbers_panel(perf, i, args.size)
            panel_ms.append((time.perf_counter() - t0) * 1e3)
        ms = np.asarray(ms)
        name = getattr(anim._rasterizer, "name", backend)
        row = {
            "renderer": name,
            "frames": int(n),
            "ms_p50": float(np.percentile(ms, 50)),
            "ms_p90": float(np.percentile(ms, 90)),
            "ms_mean": float(ms.mean()),
            "fps": float(1e3 / ms.mean()),
            "side_by_side_panel_ms_p50": float(np.percentile(panel_ms, 50)),
        }
        results.append(row)
        anim.close()
    print(f"portrait render, {args.size}x{args.size}, one core (cpu {core}): {_cpu_name()}")
    print(f"  OpenGL: {gl_renderer or 'no context'}")
    print(f"{'renderer':<34} {'p50 ms':>8} {'p90 ms':>8} {'fps':>8}")
    for r in results:
        print(f"{r['renderer']:<34} {r['ms_p50']:>8.2f} {r['ms_p90']:>8.2f} {r['fps']:>8.1f}")
    host = socket.gethostname().split(".")[0] or "host"
    out = args.out or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results", f"portrait_fps_{host}.json"
    )
    doc = {
        "size": args.size,
        "photo": args.photo or "skimage.data.astronaut()",
        "core": core,
        "results": results,
        "machine": {
            "host": host,
            "cpu": _cpu_name(),
            "python": platform.python_version(),
            "cpus_visible": os.cpu_count(),
            "opengl": gl_renderer,
            "opencv": cv2.__version__,
        },
    }
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
