"""
gazehead_rt native core (private; use the gazehead_rt package)
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
import typing_extensions
__all__: list[str] = ['CpuGenerator', 'CudaGenerator', 'FrameCall', 'Generator', 'Model', 'RateClock', 'UseGuard', 'build_config', 'check_agent_ids', 'check_model_config', 'check_neck_limits', 'check_temperature', 'constants', 'cuda_device_count', 'cuda_device_name', 'cuda_device_status', 'model_config_defaults', 'normal_noise', 'philox4x32_10', 'population_style', 'read_model_file', 'roofline_probe', 'validate_gaze']
class Model:
    def __init__(self, spec: dict) -> None:
        ...
    @property
    def fps(self) -> float:
        ...
    @property
    def hidden(self) -> int:
        ...
    @property
    def latent(self) -> int:
        ...
    @property
    def num_parameters(self) -> int:
        ...
class UseGuard:
    def __enter__(self) -> None:
        ...
    def __exit__(self, *args) -> bool:
        ...
class Generator:
    def check_clock_state(self, state: typing.Any) -> None:
        ...
    def clock_emit(self, head: numpy.typing.NDArray[numpy.float32], eye: numpy.typing.NDArray[numpy.float32]) -> None:
        ...
    def clock_state(self) -> typing.Any:
        ...
    def clone(self) -> Generator:
        ...
    def exclusive(self) -> UseGuard:
        """
        A context manager holding the generator for this thread (another thread's calls are refused with RuntimeError until it exits).
        """
    def get_state(self) -> dict:
        ...
    def load_state(self, blob: typing_extensions.Buffer) -> None:
        ...
    def prime(self, gaze_hist: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], head_hist: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> None:
        ...
    def reset(self, agents: typing.Any = None) -> None:
        ...
    def result(self, head: numpy.typing.NDArray[numpy.float32], eye: numpy.typing.NDArray[numpy.float32]) -> None:
        ...
    def rollout(self, gaze_seq: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], head_seq: numpy.typing.NDArray[numpy.float32], eye_seq: numpy.typing.NDArray[numpy.float32]) -> None:
        ...
    def save_state(self) -> bytes:
        ...
    def set_clock_state(self, state: typing.Any) -> None:
        ...
    def set_state(self, arg0: dict) -> None:
        ...
    def step(self, gaze: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], head: numpy.typing.NDArray[numpy.float32], eye: numpy.typing.NDArray[numpy.float32]) -> None:
        ...
    def step_async(self, gaze: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> None:
        ...
    def update(self, gaze: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], dt_s: typing.SupportsFloat | typing.SupportsIndex, head: numpy.typing.NDArray[numpy.float32], eye: numpy.typing.NDArray[numpy.float32]) -> None:
        ...
    @property
    def backend(self) -> str:
        ...
    @property
    def fps(self) -> float:
        ...
    @property
    def neck_limits(self) -> tuple[float, float, float]:
        ...
    @neck_limits.setter
    def neck_limits(self, arg1: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> None:
        ...
    @property
    def num_agents(self) -> int:
        ...
    @property
    def pending(self) -> bool:
        ...
    @property
    def seed(self) -> int:
        ...
    @seed.setter
    def seed(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def style(self) -> numpy.typing.NDArray[numpy.float32]:
        ...
    @style.setter
    def style(self, arg1: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> None:
        ...
    @property
    def temperature(self) -> float:
        ...
    @temperature.setter
    def temperature(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class RateClock:
    @staticmethod
    def check_dt(dt_s: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    def __init__(self, num_agents: typing.SupportsInt | typing.SupportsIndex, fps: typing.SupportsFloat | typing.SupportsIndex, max_steps_per_update: typing.Any = None) -> None:
        ...
    def emit(self, head: numpy.typing.NDArray[numpy.float32], eye: numpy.typing.NDArray[numpy.float32]) -> None:
        ...
    def load_state_dict(self, state: typing.Any) -> None:
        ...
    def reset_agents(self, agents: typing.Annotated[numpy.typing.ArrayLike, numpy.int64]) -> None:
        ...
    def reset_all(self) -> None:
        ...
    def start(self, gaze: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], head0: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], head: numpy.typing.NDArray[numpy.float32], eye: numpy.typing.NDArray[numpy.float32]) -> None:
        ...
    def state_dict(self) -> typing.Any:
        ...
    def update(self, gaze: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], dt_s: typing.SupportsFloat | typing.SupportsIndex, step_fn: collections.abc.Callable, head: numpy.typing.NDArray[numpy.float32], eye: numpy.typing.NDArray[numpy.float32]) -> None:
        ...
    @property
    def dropped_time_s(self) -> float:
        ...
    @property
    def fps(self) -> float:
        ...
    @property
    def frames(self) -> int:
        ...
    @property
    def max_steps_per_update(self) -> int:
        ...
    @property
    def num_agents(self) -> int:
        ...
    @property
    def time_s(self) -> float:
        ...
class FrameCall:
    def __call__(self, gaze: typing.Any, out: typing.Any = None) -> typing.Any:
        ...
    def __init__(self, generator: Generator, head_last: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], eye_last: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], convert_gaze: collections.abc.Callable, check_out: collections.abc.Callable) -> None:
        ...
class CpuGenerator(Generator):
    def __init__(self, model: Model, num_agents: typing.SupportsInt | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, temperature: typing.SupportsFloat | typing.SupportsIndex, nan_policy: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex = 1, weights_dtype: typing.SupportsInt | typing.SupportsIndex = 0) -> None:
        ...
    @property
    def isa(self) -> str:
        ...
    @property
    def num_threads(self) -> int:
        ...
    @property
    def weights_dtype(self) -> int:
        ...
class CudaGenerator(Generator):
    def __init__(self, model: Model, num_agents: typing.SupportsInt | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, temperature: typing.SupportsFloat | typing.SupportsIndex, nan_policy: typing.SupportsInt | typing.SupportsIndex, weights_dtype: typing.SupportsInt | typing.SupportsIndex = 0, device: typing.SupportsInt | typing.SupportsIndex = 0) -> None:
        ...
    @property
    def device(self) -> int:
        ...
    @property
    def tile_agents(self) -> int:
        ...
    @property
    def weights_dtype(self) -> int:
        ...
def build_config() -> dict:
    ...
def check_agent_ids(ids: typing.Annotated[numpy.typing.ArrayLike, numpy.int64], num_agents: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    The core's check of agent ids: each in [0, num_agents); ValueError naming the first.
    """
def check_model_config(config_json: str) -> None:
    """
    The core's checks of a model config (those of read_model_file); ModelError.
    """
def check_neck_limits(limits: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> None:
    """
    The core's check of (pitch, yaw, roll) neck half-ranges; ValueError.
    """
def check_temperature(temperature: typing.SupportsFloat | typing.SupportsIndex) -> None:
    """
    The core's temperature check: finite, in [0, 10]; ValueError.
    """
def constants() -> dict:
    """
    The core's model-format constants (held against gazehead_rt.model_file by a test).
    """
def cuda_device_count() -> int:
    """
    Visible CUDA devices; 0 without a driver or a device (never raises).
    """
def cuda_device_name(device: typing.SupportsInt | typing.SupportsIndex = 0) -> str:
    """
    Name, compute capability, SM count and memory of a CUDA device.
    """
def cuda_device_status() -> str:
    """
    Why no CUDA device is usable ('' when one is).
    """
def model_config_defaults() -> dict:
    """
    The values the core's reader gives a config key a file leaves out (held equal to ModelConfig's defaults by a test).
    """
def normal_noise(seed: typing.SupportsInt | typing.SupportsIndex, agents: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32], episode: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32], frame: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32], latent: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float32]:
    """
    The standard normal eps (N, latent) the step draws for each (agent, episode, frame).
    """
def philox4x32_10(arg0: typing.SupportsInt | typing.SupportsIndex, arg1: typing.SupportsInt | typing.SupportsIndex, arg2: typing.SupportsInt | typing.SupportsIndex, arg3: typing.SupportsInt | typing.SupportsIndex, arg4: typing.SupportsInt | typing.SupportsIndex, arg5: typing.SupportsInt | typing.SupportsIndex) -> tuple[int, int, int, int]:
    """
    One Philox4x32-10 block (counter c0..c3, key k0, k1) as four uint32.
    """
def population_style(style_mean: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], style_std: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], seed: typing.SupportsInt | typing.SupportsIndex, agents: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32]) -> numpy.typing.NDArray[numpy.float32]:
    """
    The core's population style draw (k, 2) of the listed agents (gazehead::population_style).
    """
def read_model_file(path: str) -> dict:
    """
    The core's model file reader (gazehead::read_model_file): config, normalization, tensors, the other metadata entries as text and the file's sha256; ModelError naming the file.
    """
def roofline_probe(seconds: typing.SupportsFloat | typing.SupportsIndex = 0.3) -> dict:
    """
    Roofline probe of the chosen CPU kernels: multiply-adds per second of a register-only FMA loop and of vdpbf16ps (0 without native bf16), and read bytes per second from a 256 KiB buffer (L2), each over about `seconds` of thread CPU time.
    """
def validate_gaze(gaze: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], allow_nonfinite: bool) -> None:
    """
    The core's gaze check (finite unless allowed, |pitch| <= pi/2, |yaw| <= pi); raises ValueError naming the agent.
    """
