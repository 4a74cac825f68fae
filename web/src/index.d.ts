// Types of gazehead-web (the package is plain JavaScript ES modules).
import type { InferenceSession, SessionOptions } from "onnxruntime-web";

export type Backend = "wasm" | "webgpu";
/** Numbers per agent, agent-major: N*2 gaze, or 2 for every agent, or N [pitch, yaw] pairs. */
export type Gaze = ArrayLike<number> | number[][];
export type StyleInput =
  | null
  | "mean"
  | ArrayLike<number>
  | { propensity?: number | ArrayLike<number>; idle?: number | ArrayLike<number> };

export const STYLE_NAMES: readonly ["propensity", "idle"];

export interface LoadOptions {
  /** "wasm" (default), "webgpu", or "auto" (WebGPU where the browser has an adapter) */
  backend?: Backend | "auto";
  sessionOptions?: SessionOptions;
}

/** The exported step and its metadata; immutable, shared by any number of GazeHead instances. */
export class GazeHeadModel {
  readonly session: InferenceSession;
  readonly metadata: Record<string, string>;
  readonly backend: Backend;
  readonly fps: number;
  readonly hiddenSize: number;
  readonly latentSize: number;
  readonly styleSize: number;
  readonly styleMean: number[];
  readonly styleStd: number[];
  /** the model's default (pitch, yaw, roll) neck half-ranges, radians */
  readonly neckLimits: number[];
  readonly eyeLimit: number;
  readonly modelSha256: string;
  readonly inputNames: string[];
  readonly outputNames: string[];
  /** session.run, queued behind the calls already started on this model (one at a time) */
  run(feeds: InferenceSession.FeedsType): Promise<InferenceSession.ReturnType>;
}

/** Load an ONNX file written by `gazehead-rt export-onnx` (a URL or its bytes). */
export function loadModel(source: string | URL | ArrayBuffer | Uint8Array, options?: LoadOptions): Promise<GazeHeadModel>;

export interface GazeHeadOptions {
  numAgents?: number;
  /** uint32; the same (seed, agent) gives the same motion as gazehead_rt.Generator(seed=...) */
  seed?: number;
  /** in [0, 10]; 1 = the trained spread, 0 = the mean motion */
  temperature?: number;
  /** null: each agent's population draw (default) */
  style?: StyleInput;
  /** (pitch, yaw, roll) half-ranges in radians; default: the model's */
  neckLimits?: ArrayLike<number>;
  nanPolicy?: "raise" | "hold";
}

export interface StepResult {
  /** N*3 (pitch, yaw, roll) radians, head on the torso */
  head: Float32Array;
  /** N*2 (pitch, yaw) radians, eye-in-head */
  eye: Float32Array;
}

export class GazeHead {
  constructor(model: GazeHeadModel, options?: GazeHeadOptions);
  readonly model: GazeHeadModel;
  readonly numAgents: number;
  readonly seed: number;
  readonly nanPolicy: "raise" | "hold";
  readonly fps: number;
  readonly temperature: number;
  /** N*2 (propensity, idle), a copy */
  readonly style: Float32Array;
  /** N*3, a copy */
  readonly neckLimits: Float32Array;
  /** the last step's head N*3, a copy */
  readonly head: Float32Array;
  /** the last step's eye-in-head N*2, a copy */
  readonly eye: Float32Array;
  /** One model frame (1/fps s) for every agent. Throws before any change on bad input. */
  step(gaze: Gaze): Promise<StepResult>;
  /** New episode (zero state, fresh noise) for some agents, all when omitted; styles stay. */
  reset(agents?: Iterable<number>): void;
  setStyle(style: StyleInput, agents?: Iterable<number>): void;
  setTemperature(temperature: number): void;
  setNeckLimits(limits: ArrayLike<number>, agents?: Iterable<number>): void;
}

/** Philox4x32-10 of counter (c0..c3) and key (k0, k1): four uint32 words. */
export function philox4x32_10(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out?: Uint32Array): Uint32Array;
/** The `latent` normals gazehead_rt draws for (seed, agent, episode, frame). */
export function agentNormals(seed: number, agent: number, episode: number, frame: number, latent: number, out?: Float32Array, offset?: number): Float32Array;
/** The runtime's default style per agent (agents.length * 2). */
export function populationStyle(seed: number, agents: number[], styleMean: ArrayLike<number>, styleStd: ArrayLike<number>): Float32Array;
export const STYLE_DRAW_COUNTER: number;
/** metadata_props of an ONNX file. */
export function readOnnxMetadata(bytes: ArrayBuffer | Uint8Array): Record<string, string>;
/** Eye-in-head (pitch, yaw) of a gaze seen from a head (pitch, yaw, roll), radians. */
export function eyeFromGazeHead(gazePitch: number, gazeYaw: number, headPitch: number, headYaw: number, headRoll: number): [number, number];

/** head = gain * lowpass(gaze): the controller games use today, for comparison. */
export class ProportionalBaseline {
  constructor(options?: { numAgents?: number; gain?: number; tauS?: number });
  readonly numAgents: number;
  gain: number;
  tauS: number;
  reset(): void;
  update(gaze: ArrayLike<number>, dtS: number): StepResult;
}
