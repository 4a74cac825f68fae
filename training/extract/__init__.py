"""Video extraction: face videos -> gaze and head-pose sequences (docs/design.md §3 datasets).

Optional extra: ``pip install "gazehead_rt[extract]"`` (MediaPipe 0.10.21, OpenCV; Ray for
``--executor ray``). Importing this package needs only numpy; MediaPipe and OpenCV are
imported when a video is processed. Stages, one module each:

``landmarks`` decode + MediaPipe face mesh with iris → ``head_pose`` camera model and rigid
fit to the project's own face ``template`` → ``gaze`` eyeball model → ``estimate`` (per
frame) → ``tracks`` (tracks, blinks, outliers, gaps, smoothing, resampling, with
``filtering``) → ``pipeline`` (per-video task, process pool / Ray, resume) → ``preview``,
``cli``. Each stage imports only the stages before it (``python_tests/test_layering.py``
checks for cycles); ``derive_template`` is the tool that rebuilds the template from videos.
Conventions and models: ``docs/extraction.md``.
"""

from .pipeline import ExtractConfig, VideoResult, extract_dataset, extract_video, find_videos

__all__ = ["ExtractConfig", "VideoResult", "extract_dataset", "extract_video", "find_videos"]
