"""
gazehead_rt native core (private; use the gazehead_rt package)
"""
from __future__ import annotations
import numpy
import numpy.typing
import typing
__all__: list[str] = ['CpuGenerator', 'Model', 'build_config', 'normal_noise', 'philox4x32_10']
class Model:
    def __init__(self, tensors: dict, enc_layers: typing.SupportsInt | typing.SupportsIndex, prior_layers: typing.SupportsInt | typing.SupportsIndex, dec_layers: typing.SupportsInt | typing.SupportsIndex, hidden: typing.SupportsInt | typing.SupportsIndex, latent: typing.SupportsInt | typing.SupportsIndex, activation: str, residual: bool, fps: typing.SupportsFloat | typing.SupportsIndex, x_mean: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], x_std: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], y_mean: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], y_std: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> None:
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
class CpuGenerator:
    def __init__(self, model: Model, num_agents: typing.SupportsInt | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, temperature: typing.SupportsFloat | typing.SupportsIndex, nan_policy: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def clone(self) -> CpuGenerator:
        ...
    def get_state(self) -> dict:
        ...
    def prime(self, gaze_hist: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], head_hist: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> None:
        ...
    def reset(self, agents: typing.Any = None) -> None:
        ...
    def rollout(self, gaze_seq: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], head_seq: numpy.typing.NDArray[numpy.float32], eye_seq: numpy.typing.NDArray[numpy.float32]) -> None:
        ...
    def set_state(self, arg0: dict) -> None:
        ...
    def step(self, gaze: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], head: numpy.typing.NDArray[numpy.float32], eye: numpy.typing.NDArray[numpy.float32]) -> None:
        ...
    @property
    def isa(self) -> str:
        ...
    @property
    def num_agents(self) -> int:
        ...
    @property
    def seed(self) -> int:
        ...
    @seed.setter
    def seed(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def temperature(self) -> float:
        ...
    @temperature.setter
    def temperature(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
def build_config() -> dict:
    ...
def normal_noise(seed: typing.SupportsInt | typing.SupportsIndex, agents: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32], episode: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32], frame: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32], latent: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float32]:
    """
    The standard normal eps (N, latent) the step draws for each (agent, episode, frame).
    """
def philox4x32_10(arg0: typing.SupportsInt | typing.SupportsIndex, arg1: typing.SupportsInt | typing.SupportsIndex, arg2: typing.SupportsInt | typing.SupportsIndex, arg3: typing.SupportsInt | typing.SupportsIndex, arg4: typing.SupportsInt | typing.SupportsIndex, arg5: typing.SupportsInt | typing.SupportsIndex) -> tuple[int, int, int, int]:
    """
    One Philox4x32-10 block (counter c0..c3, key k0, k1) as four uint32.
    """
