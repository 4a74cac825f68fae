"""Videos -> docs/design.md §3 dataset: per-video task, batch runner (process pool or Ray), resume.

Per video (:func:`extract_video`): decode, landmarks, head pose, eye model (``estimate``),
then tracks, masks, filters and resampling (``tracks``). Each track of at least
``min_track_s`` becomes one clip ``clip_<video id>_t<k>.npz``.

Batch (:func:`extract_dataset`): one task per video on a process pool (default) or a Ray
cluster; each task writes its clips (atomically, via ``training.data.write_clip``) and then
a small record ``.extract/<video id>.json`` (atomically). The record is the "done" mark:
a rerun skips a video whose record matches the file's size, mtime and the config digest,
and an interrupted task leaves no record, so it is redone. ``manifest.json`` is rebuilt
from the records at the end, so it lists only clips of finished videos; entries of other
producers already in the manifest are kept. A video that cannot be read is reported and
skipped; a crashed worker process is retried once alone, then reported.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from .tracks import ExtractConfig, TrackResult, process_raw

__all__ = [
    "ExtractConfig",
    "VideoResult",
    "extract_video",
    "extract_dataset",
    "find_videos",
    "video_id",
    "VIDEO_EXTENSIONS",
    "DOMAIN",
]

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v")
DOMAIN = "video"  # manifest tag: sequences labelled by this pipeline from face video
RECORD_DIR = ".extract"
_ID_BAD = re.compile(r"[^A-Za-z0-9_.\-]+")


def video_id(path: str) -> str:
    """Clip-id-safe name of a video: its file stem with other characters replaced by '-'."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return _ID_BAD.sub("-", stem).strip("-.") or "video"


def find_videos(inputs: Iterable[str]) -> list[str]:
    """Files given directly, plus video files (by extension) found under given folders."""
    out = []
    for p in inputs:
        if os.path.isdir(p):
            for root, _, files in os.walk(p):
                out += [
                    os.path.join(root, f)
                    for f in sorted(files)
                    if f.lower().endswith(VIDEO_EXTENSIONS)
                ]
        else:
            out.append(p)
    return sorted(dict.fromkeys(os.path.abspath(p) for p in out))


@dataclass
class VideoResult:
    path: str
    video_id: str
    fps_src: float
    frames_src: int
    width_px: int
    height_px: int
    focal_px: float
    fps_out: float
    tracks: list[TrackResult] = field(default_factory=list)
    seconds: float = 0.0  # wall time of the extraction
    raw: object = None  # estimate.RawFrames: per-frame estimates (preview, tests)

    @property
    def valid_fraction(self) -> float:
        """Valid share of the video's duration at the output rate (lost frames count)."""
        n_valid = sum(int(t.valid.sum()) for t in self.tracks)
        n_total = max(1, int(round(self.frames_src / self.fps_src * self.fps_out)))
        return min(1.0, n_valid / n_total)


def extract_video(
    path: str,
    config: ExtractConfig | None = None,
    *,
    start: int = 0,
    stop: int | None = None,
    transform: Callable | None = None,
    progress: Callable[[int], None] | None = None,
) -> VideoResult:
    """Extract gaze/head tracks from frames ``[start, stop)`` of one video (in memory)."""
    from .estimate import estimate_frames  # noqa: PLC0415 - needs mediapipe/OpenCV

    cfg = config or ExtractConfig()
    t0 = time.perf_counter()
    raw = estimate_frames(
        path,
        focal_factor=cfg.focal_factor,
        start=start,
        stop=stop,
        transform=transform,
        progress=progress,
    )
    tracks = process_raw(raw, cfg)
    return VideoResult(
        os.fspath(path),
        video_id(os.fspath(path)),
        raw.fps,
        raw.frames,
        raw.width_px,
        raw.height_px,
        raw.camera.focal_px,
        cfg.fps_out,
        tracks,
        time.perf_counter() - t0,
        raw,
    )


def _split_for(vid: str) -> str:
    """Deterministic split by source file (docs/design.md §3: never by frame): ~70/15/15."""
    h = int(hashlib.sha1(vid.encode()).hexdigest()[:8], 16) % 20
    return "train" if h < 14 else ("val" if h < 17 else "test")


def _clips_for(res: VideoResult, cfg: ExtractConfig, split: str | None):
    from ..data import Clip  # noqa: PLC0415 - the one docs/design.md §3 writer

    clips = []
    for k, tr in enumerate(res.tracks):
        clips.append(
            Clip(
                id=f"{res.video_id}_t{k}",
                gaze=tr.gaze,
                head=tr.head,
                valid=tr.valid,
                fps=cfg.fps_out,
                source=os.path.basename(res.path),
                subject=None,
                split=split or _split_for(res.video_id),
                extra={
                    "domain": DOMAIN,
                    "source_frames": [tr.start, tr.stop],
                    "source_fps": res.fps_src,
                    "focal_px": res.focal_px,
                    "mean_confidence": round(tr.stats["mean_confidence"], 4),
                    "blink_fraction": round(tr.stats["blink_fraction"], 4),
                    "filters": cfg.filter_summary(),
                    "extract_config": cfg.digest(),
                },
            )
        )
    return clips


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _atomic_json(path: str, obj) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, default=_json_default)
        f.write("\n")
    os.replace(tmp, path)


def _source_key(path: str) -> dict:
    st = os.stat(path)
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def run_video_task(
    path: str,
    out_dir: str,
    cfg: ExtractConfig,
    vid: str,
    preview: bool = False,
    split: str | None = None,
) -> dict:
    """Extract one video into ``out_dir``; never raises (errors come back in the dict).

    Runs in a worker process or a Ray task, so it takes and returns plain data.
    """
    from ..data import write_clip  # noqa: PLC0415

    t0 = time.perf_counter()
    rec_path = os.path.join(out_dir, RECORD_DIR, f"{vid}.json")
    written: list[str] = []
    try:
        key = _source_key(path)
        res = extract_video(path, cfg)
        res.video_id = vid
        clips = _clips_for(res, cfg, split)
        old = _read_record(rec_path)
        for c in clips:
            written.append(write_clip(out_dir, c))
        from ..data.dataset import manifest_entry  # noqa: PLC0415

        entries = [manifest_entry(c) for c in clips]
        keep = {e["file"] for e in entries}
        for e in (old or {}).get("entries", []):  # a re-extraction that yields fewer tracks
            if e["file"] not in keep and os.path.exists(os.path.join(out_dir, e["file"])):
                os.remove(os.path.join(out_dir, e["file"]))
        preview_path = None
        if preview:
            from .preview import write_preview  # noqa: PLC0415

            preview_path = os.path.join(out_dir, "previews", f"{vid}.png")
            write_preview(res, preview_path)
        record = {
            "video": os.path.abspath(path),
            "video_id": vid,
            "source": key,
            "config_digest": cfg.digest(),
            "config": asdict(cfg),
            "fps_src": res.fps_src,
            "frames_src": res.frames_src,
            "size_px": [res.width_px, res.height_px],
            "focal_px": res.focal_px,
            "tracks": [
                dict(t.stats, start=t.start, stop=t.stop, valid_fraction=t.valid_fraction)
                for t in res.tracks
            ],
            "valid_fraction": res.valid_fraction,
            "extract_seconds": res.seconds,
            "seconds": time.perf_counter() - t0,
            "entries": entries,
            "preview": preview_path,
        }
        _atomic_json(rec_path, record)
        return {
            "video": path,
            "video_id": vid,
            "status": "done",
            "clips": len(clips),
            "frames": res.frames_src,
            "valid_fraction": res.valid_fraction,
            "extract_seconds": res.seconds,
            "seconds": record["seconds"],
        }
    except Exception as e:  # noqa: BLE001 - one bad video must not stop the batch
        # no record was written, so this video's new clip files are orphans: remove them
        # (clips of an earlier finished run stay listed by its record)
        old_files = {e["file"] for e in ((_read_record(rec_path) or {}).get("entries", []))}
        for f in written:
            if os.path.basename(f) not in old_files and os.path.exists(f):
                os.remove(f)
        return {
            "video": path,
            "video_id": vid,
            "status": "failed",
            "error": f"{type(e).__name__}: {e}",
            "traceback": traceback.format_exc(limit=4),
        }


def _read_record(path: str) -> dict | None:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError):
        return None


def _is_done(path: str, out_dir: str, vid: str, digest: str) -> bool:
    rec = _read_record(os.path.join(out_dir, RECORD_DIR, f"{vid}.json"))
    if not rec or rec.get("config_digest") != digest:
        return False
    try:
        if rec.get("source") != _source_key(path):
            return False
    except OSError:
        return False
    return all(os.path.exists(os.path.join(out_dir, e["file"])) for e in rec["entries"])


def _assign_ids(videos: list[str]) -> dict[str, str]:
    """Video ids, disambiguated with a path hash when two files share a stem."""
    ids: dict[str, str] = {}
    stems = [video_id(v) for v in videos]
    for v, s in zip(videos, stems):
        if stems.count(s) > 1:
            s = f"{s}-{hashlib.sha1(v.encode()).hexdigest()[:6]}"
        ids[v] = s
    return ids


def _progress_bar(total: int, desc: str, enabled: bool):
    if enabled:
        try:
            from tqdm import tqdm  # noqa: PLC0415

            return tqdm(total=total, desc=desc, unit="video", file=sys.stderr)
        except ImportError:
            pass

    class _Null:
        def update(self, n: int = 1) -> None: ...
        def set_postfix_str(self, s: str) -> None: ...
        def close(self) -> None: ...

    return _Null()


def _run_pool(tasks: list[tuple], workers: int, report: Callable[[dict], None]) -> None:
    import concurrent.futures as cf  # noqa: PLC0415
    import multiprocessing as mp  # noqa: PLC0415
    from concurrent.futures.process import BrokenProcessPool  # noqa: PLC0415

    # 'spawn': MediaPipe's graph threads do not survive fork() of an initialised parent
    ctx = mp.get_context("spawn")
    crashed: list[tuple] = []
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
        futs = {ex.submit(run_video_task, *t): t for t in tasks}
        for f in cf.as_completed(futs):
            try:
                report(f.result())
            except BrokenProcessPool:
                crashed.append(futs[f])
    for t in crashed:  # alone, so a crash is pinned on the video that caused it
        with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
            try:
                report(ex.submit(run_video_task, *t).result())
            except BrokenProcessPool:
                report(
                    {
                        "video": t[0],
                        "video_id": t[3],
                        "status": "failed",
                        "error": "worker process crashed (twice) on this video",
                    }
                )


def _run_ray(
    tasks: list[tuple],
    ray_address: str | None,
    report: Callable[[dict], None],
    num_cpus: int | None = None,
) -> None:
    try:
        import ray  # noqa: PLC0415
    except ImportError as e:
        raise RuntimeError(
            f'--executor ray needs Ray: pip install "gazehead_rt[ray]" (import failed with: {e})'
        ) from e
    started = False
    empty_dir = None
    try:
        if not ray.is_initialized():
            # The folder this code is imported from: the checkout (`python -m
            # training.extract`) or site-packages (the wheel's gazehead_rt.training).
            root = os.path.abspath(__file__)
            for _ in __name__.split("."):
                root = os.path.dirname(root)
            from_checkout = __name__.startswith("training.")
            if ray_address:  # a cluster: ship a checkout's code; a wheel must be installed there
                kw = {}
                if from_checkout:
                    kw = {
                        "runtime_env": {
                            "working_dir": root,
                            "excludes": [".git", "build", "data", "*.mp4"],
                        }
                    }
            else:  # a local single-node Ray (Ray 2.x has no in-process "local mode" any more)
                # Ray puts the driver's current folder first on the workers' path unless a
                # working_dir is given; from a checkout's root the source tree would shadow
                # the installed package, so the workers start in an empty folder.
                import tempfile  # noqa: PLC0415

                empty_dir = tempfile.mkdtemp(prefix="gazehead-ray-")
                kw = {
                    "num_cpus": num_cpus,
                    "include_dashboard": False,
                    "runtime_env": {
                        "working_dir": empty_dir,
                        "env_vars": {"PYTHONPATH": root} if from_checkout else {},
                    },
                }
            ray.init(address=ray_address, ignore_reinit_error=True, log_to_driver=False, **kw)
            started = True
        remote = ray.remote(num_cpus=1, max_retries=1)(run_video_task)
        pending = {remote.remote(*t): t for t in tasks}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            t = pending.pop(done[0])
            try:
                report(ray.get(done[0]))
            except Exception as e:  # noqa: BLE001 - a dead worker is this video's failure
                report(
                    {
                        "video": t[0],
                        "video_id": t[3],
                        "status": "failed",
                        "error": f"ray task failed: {type(e).__name__}: {e}",
                    }
                )
    finally:
        if started:
            ray.shutdown()
        if empty_dir is not None:
            os.rmdir(empty_dir)


def write_manifest_from_records(out_dir: str, name: str = "") -> dict:
    """Rebuild ``manifest.json`` from the finished-video records (plus foreign entries)."""
    from ..data import read_manifest, write_manifest  # noqa: PLC0415
    from ..data.dataset import DatasetError  # noqa: PLC0415

    rec_dir = os.path.join(out_dir, RECORD_DIR)
    records = []
    if os.path.isdir(rec_dir):
        for f in sorted(os.listdir(rec_dir)):
            if f.endswith(".json"):
                r = _read_record(os.path.join(rec_dir, f))
                if r:
                    records.append(r)
    ours = [e for r in records for e in r["entries"]]
    ours_files = {e["file"] for e in ours}
    foreign = []
    try:
        old = read_manifest(out_dir)
        foreign = [
            e for e in old["clips"] if e.get("domain") != DOMAIN and e["file"] not in ours_files
        ]
    except DatasetError:
        pass
    entries = foreign + ours
    write_manifest(
        out_dir,
        entries,
        name=name or os.path.basename(os.path.abspath(out_dir)),
        description="face videos labelled by training.extract (domain 'video'): "
        "head pose by rigid template fit, gaze by eyeball model",
    )
    frames = sum(e["frames"] for e in ours)
    valid = sum(e["frames"] * e["valid_fraction"] for e in ours)
    return {
        "videos": len(records),
        "clips": len(ours),
        "frames": frames,
        "valid_fraction": valid / frames if frames else 0.0,
    }


def extract_dataset(
    inputs: Iterable[str],
    out_dir: str,
    config: ExtractConfig | None = None,
    *,
    workers: int | None = None,
    executor: str = "process",
    ray_address: str | None = None,
    preview: bool = False,
    force: bool = False,
    progress: bool = True,
    split: str | None = None,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Extract every video of ``inputs`` (files or folders) into the dataset ``out_dir``.

    Returns a summary: per-video results (status done/skipped/failed), totals.
    """
    cfg = config or ExtractConfig()
    log = log or (lambda s: print(s, file=sys.stderr))
    videos = find_videos(inputs)
    os.makedirs(os.path.join(out_dir, RECORD_DIR), exist_ok=True)
    ids = _assign_ids(videos)
    digest = cfg.digest()
    results: list[dict] = []
    todo = []
    for v in videos:
        if not force and _is_done(v, out_dir, ids[v], digest):
            results.append({"video": v, "video_id": ids[v], "status": "skipped"})
        else:
            todo.append((v, out_dir, cfg, ids[v], preview, split))
    if results:
        log(f"{len(results)} video(s) already extracted with this config: skipped")
    bar = _progress_bar(len(todo), "extract", progress)

    def report(r: dict) -> None:
        results.append(r)
        bar.update(1)
        if r["status"] == "failed":
            log(f"FAILED {r['video']}: {r['error']}")
        else:
            bar.set_postfix_str(f"{r['video_id']}: valid {r['valid_fraction']:.0%}")

    try:
        if todo:
            if executor == "ray":
                _run_ray(todo, ray_address, report, workers)
            elif executor == "process":
                n = workers or max(1, (os.cpu_count() or 1))
                if n == 1:  # in-process: simpler tracebacks, no spawn cost
                    for t in todo:
                        report(run_video_task(*t))
                else:
                    _run_pool(todo, min(n, len(todo)), report)
            else:
                raise ValueError(f"executor must be 'process' or 'ray', got {executor!r}")
    finally:
        bar.close()
    totals = write_manifest_from_records(out_dir)
    failed = [r for r in results if r["status"] == "failed"]
    return {"out_dir": out_dir, "results": results, "failed": len(failed), **totals}
