// gazehead_rt's step in the browser: the exported ONNX graph (docs/onnx.md) run in
// onnxruntime-web, with the per-agent state the graph takes as inputs kept here, the way
// gazehead_rt.Generator keeps it inside.
import * as ort from "onnxruntime-web";

import { readOnnxMetadata } from "./onnx_meta.js";
import { agentNormals, populationStyle } from "./philox.js";

export const STYLE_NAMES = Object.freeze(["propensity", "idle"]);
const FORMAT_VERSION = "3"; // motion model v4 (the graph's inputs and outputs are those of format 2)
const MAX_TEMPERATURE = 10; // as the runtime
const HALF_PI = Math.PI / 2;

function metaNumber(meta, key) {
  const v = Number(meta[key]);
  if (!(key in meta) || !Number.isFinite(v)) {
    throw new Error(`model: the ONNX metadata has no valid ${key} (export it with gazehead-rt export-onnx)`);
  }
  return v;
}

function metaList(meta, key, length) {
  let v;
  try {
    v = JSON.parse(meta[key]);
  } catch {
    v = null;
  }
  if (!Array.isArray(v) || v.length !== length || !v.every(Number.isFinite)) {
    throw new Error(`model: the ONNX metadata has no valid ${key} (expected ${length} numbers)`);
  }
  return v;
}

async function webgpuAvailable() {
  if (typeof navigator === "undefined" || !navigator.gpu) return false;
  try {
    return (await navigator.gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

// onnxruntime-web runs one call per session at a time ("Session already started"): the calls
// of every GazeHead sharing a model are queued here, per model
const runQueues = new WeakMap();

/**
 * The exported step and what its metadata says about it. Immutable; any number of GazeHead
 * instances (groups of agents) may share one.
 */
export class GazeHeadModel {
  /** Use loadModel(). */
  constructor(session, meta, backend) {
    this.session = session;
    /** the raw metadata_props of the ONNX file */
    this.metadata = meta;
    /** "wasm" or "webgpu": the execution provider the session runs on */
    this.backend = backend;
    this.fps = metaNumber(meta, "gazehead.fps");
    this.hiddenSize = metaNumber(meta, "gazehead.hidden_size");
    this.latentSize = metaNumber(meta, "gazehead.latent_size");
    this.styleSize = metaNumber(meta, "gazehead.style_size");
    if (this.styleSize !== STYLE_NAMES.length) {
      throw new Error(`model: style size ${this.styleSize}, this package knows ${STYLE_NAMES.length} (${STYLE_NAMES})`);
    }
    this.styleMean = metaList(meta, "gazehead.style_mean", this.styleSize);
    this.styleStd = metaList(meta, "gazehead.style_std", this.styleSize);
    this.neckLimits = metaList(meta, "gazehead.neck_limits", 3);
    this.eyeLimit = metaNumber(meta, "gazehead.eye_limit");
    this.modelSha256 = meta["gazehead.model_sha256"] ?? "";
    this.inputNames = (meta["gazehead.inputs"] ?? "").split(",");
    this.outputNames = (meta["gazehead.outputs"] ?? "").split(",");
    for (const name of this.inputNames) {
      if (!session.inputNames.includes(name)) throw new Error(`model: the graph has no input ${name}`);
    }
    for (const name of this.outputNames) {
      if (!session.outputNames.includes(name)) throw new Error(`model: the graph has no output ${name}`);
    }
    Object.freeze(this);
  }

  /** session.run(feeds), after every call started before it on this model has finished. */
  run(feeds) {
    const previous = runQueues.get(this) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.session.run(feeds));
    runQueues.set(this, next);
    return next;
  }
}

/**
 * Load an ONNX file written by `gazehead-rt export-onnx`.
 * @param source URL (fetched) or the file's bytes (ArrayBuffer / Uint8Array)
 * @param options.backend "wasm" (default), "webgpu", or "auto" (WebGPU where the browser has an
 *   adapter, else WASM). WASM is the default because the step is ~250 small operators: on
 *   WebGPU each is a dispatch, which costs more than the arithmetic until N is in the
 *   thousands. An explicit backend that is not available raises; nothing falls back silently.
 * @param options.sessionOptions extra onnxruntime-web session options
 */
export async function loadModel(source, { backend = "wasm", sessionOptions = {} } = {}) {
  let bytes;
  if (typeof source === "string" || source instanceof URL) {
    const response = await fetch(source);
    if (!response.ok) throw new Error(`loadModel: fetching ${source} failed: HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } else if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    bytes = source instanceof Uint8Array ? source : new Uint8Array(source.buffer ?? source);
  } else {
    throw new TypeError("loadModel: expected a URL or the ONNX file's bytes");
  }
  const meta = readOnnxMetadata(bytes);
  const version = meta["gazehead.format_version"];
  if (version !== FORMAT_VERSION) {
    throw new Error(
      `loadModel: not a gazehead_rt step graph of format ${FORMAT_VERSION} ` +
        `(gazehead.format_version = ${version === undefined ? "missing" : JSON.stringify(version)})`,
    );
  }
  if (!["auto", "wasm", "webgpu"].includes(backend)) {
    throw new Error(`loadModel: backend must be "auto", "wasm" or "webgpu", got ${JSON.stringify(backend)}`);
  }
  const gpu = backend === "wasm" ? false : await webgpuAvailable();
  if (backend === "webgpu" && !gpu) throw new Error("loadModel: WebGPU is not available in this browser");
  const chosen = gpu ? "webgpu" : "wasm";
  const session = await ort.InferenceSession.create(bytes, {
    ...sessionOptions,
    executionProviders: [chosen],
  });
  return new GazeHeadModel(session, meta, chosen);
}

/** Rows of agents: every id listed once, in range. */
function agentIds(agents, n) {
  if (agents === undefined || agents === null) return Array.from({ length: n }, (_, i) => i);
  const ids = Array.from(agents);
  for (const a of ids) {
    if (!Number.isInteger(a)) throw new TypeError(`agents: expected integer agent ids, got ${a}`);
    if (a < 0 || a >= n) throw new RangeError(`agents: id ${a} is out of range for ${n} agents (valid 0..${n - 1})`);
  }
  return ids;
}

/**
 * N agents driven by one model: the recurrent state, previous outputs, styles, neck limits
 * and noise counters of each, fed back frame by frame.
 */
export class GazeHead {
  /**
   * @param model a GazeHeadModel (loadModel)
   * @param options.numAgents N >= 1
   * @param options.seed uint32 noise seed: the same (seed, agent) gives the same motion as
   *   gazehead_rt.Generator(seed=...)
   * @param options.temperature sampling temperature in [0, 10] (1 = the trained spread)
   * @param options.style null (each agent's population draw), "mean", [propensity, idle],
   *   N*2 numbers, or {propensity, idle}
   * @param options.neckLimits (pitch, yaw, roll) half-ranges in radians (default: the model's)
   * @param options.nanPolicy "raise" (non-finite gaze throws) or "hold" (an agent keeps its
   *   last gaze)
   */
  constructor(
    model,
    { numAgents = 1, seed = 0, temperature = 1, style = null, neckLimits = null, nanPolicy = "raise" } = {},
  ) {
    if (!(model instanceof GazeHeadModel)) throw new TypeError("GazeHead: expected a model from loadModel()");
    if (!Number.isInteger(numAgents) || numAgents < 1) {
      throw new RangeError(`numAgents: expected an integer >= 1, got ${numAgents}`);
    }
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed: expected an integer in [0, 2^32), got ${seed}`);
    }
    if (nanPolicy !== "raise" && nanPolicy !== "hold") {
      throw new Error(`nanPolicy: expected "raise" or "hold", got ${JSON.stringify(nanPolicy)}`);
    }
    const n = numAgents;
    const { hiddenSize: H, latentSize: Z } = model;
    this.model = model;
    this.numAgents = n;
    this.seed = seed;
    this.nanPolicy = nanPolicy;
    this._temperature = new Float32Array(1);
    this.setTemperature(temperature);
    // per-agent rows, agent-major, fed to the graph as they are
    this._feed = {
      gaze: new Float32Array(n * 2),
      gaze_prev: new Float32Array(n * 2),
      has_prev: new Float32Array(n),
      head_prev: new Float32Array(n * 3),
      head_vel_prev: new Float32Array(n * 3),
      z_prev: new Float32Array(n * Z),
      s_prev: new Float32Array(n * H),
      style: new Float32Array(n * 2),
      eps: new Float32Array(n * Z),
    };
    this._width = { gaze: 2, gaze_prev: 2, has_prev: 1, head_prev: 3, head_vel_prev: 3, z_prev: Z, s_prev: H, style: 2, eps: Z };
    this._neckLimits = new Float32Array(n * 3);
    this._episode = new Uint32Array(n);
    this._frame = new Uint32Array(n);
    this._head = new Float32Array(n * 3);
    this._eye = new Float32Array(n * 2);
    this._busy = false;
    this.setStyle(style);
    this.setNeckLimits(neckLimits ?? model.neckLimits);
  }

  get fps() {
    return this.model.fps;
  }
  get temperature() {
    return this._temperature[0];
  }
  /** (N*2) styles, agent-major (propensity, idle); a copy. */
  get style() {
    return this._feed.style.slice();
  }
  /** (N*3) neck limits, agent-major; a copy. */
  get neckLimits() {
    return this._neckLimits.slice();
  }
  /** Head (N*3: pitch, yaw, roll) of the last step; a copy. */
  get head() {
    return this._head.slice();
  }
  /** Eye-in-head (N*2: pitch, yaw) of the last step; a copy. */
  get eye() {
    return this._eye.slice();
  }

  _refuseIfBusy(what) {
    if (this._busy) throw new Error(`${what}: a step is in flight; await it first`);
  }

  setTemperature(t) {
    this._refuseIfBusy("setTemperature");
    if (!(typeof t === "number" && t >= 0 && t <= MAX_TEMPERATURE)) {
      throw new RangeError(`temperature: expected a number in [0, ${MAX_TEMPERATURE}], got ${t}`);
    }
    this._temperature[0] = t;
  }

  /** Style of some agents (all when agents is omitted); see the constructor's options.style. */
  setStyle(style, agents) {
    this._refuseIfBusy("setStyle");
    const ids = agentIds(agents, this.numAgents);
    const k = ids.length;
    const cur = this._feed.style;
    const m = this.model;
    let rows;
    if (style === null || style === undefined) {
      rows = populationStyle(this.seed, ids, m.styleMean, m.styleStd);
    } else if (style === "mean") {
      rows = new Float32Array(k * 2);
      ids.forEach((_, i) => rows.set(m.styleMean, 2 * i));
    } else if (typeof style === "string") {
      throw new Error(`style: expected null, "mean", numbers or {propensity, idle}, got ${JSON.stringify(style)}`);
    } else if (typeof style === "object" && !ArrayBuffer.isView(style) && !Array.isArray(style)) {
      const unknown = Object.keys(style).filter((key) => !STYLE_NAMES.includes(key));
      if (unknown.length) throw new Error(`style: unknown knobs ${unknown}; expected ${STYLE_NAMES}`);
      rows = new Float32Array(k * 2);
      ids.forEach((a, i) => rows.set(cur.subarray(2 * a, 2 * a + 2), 2 * i));
      STYLE_NAMES.forEach((name, j) => {
        if (!(name in style)) return;
        const v = style[name];
        const vals = typeof v === "number" ? null : Array.from(v);
        if (vals !== null && vals.length !== k) {
          throw new Error(`style.${name}: expected a number or ${k} numbers, got ${vals.length}`);
        }
        ids.forEach((_, i) => (rows[2 * i + j] = vals === null ? v : vals[i]));
      });
    } else {
      const v = Array.from(style);
      if (v.length !== 2 && v.length !== 2 * k) {
        throw new Error(`style: expected 2 or ${2 * k} numbers, got ${v.length}`);
      }
      rows = new Float32Array(k * 2);
      ids.forEach((_, i) => rows.set(v.length === 2 ? v : v.slice(2 * i, 2 * i + 2), 2 * i));
    }
    for (let i = 0; i < k; ++i) {
      if (!Number.isFinite(rows[2 * i]) || !Number.isFinite(rows[2 * i + 1])) {
        throw new Error(`style: the style of agent ${ids[i]} is not finite`);
      }
    }
    ids.forEach((a, i) => cur.set(rows.subarray(2 * i, 2 * i + 2), 2 * a));
  }

  /**
   * Neck limits (pitch, yaw, roll) half-ranges in radians, for some agents (all when agents is
   * omitted). Agents with different limits are run as separate groups (one graph call each).
   */
  setNeckLimits(limits, agents) {
    this._refuseIfBusy("setNeckLimits");
    const ids = agentIds(agents, this.numAgents);
    const v = Array.from(limits);
    const names = ["pitch", "yaw", "roll"];
    if (v.length !== 3) throw new Error(`neckLimits: expected 3 values (pitch, yaw, roll) in radians, got ${v.length}`);
    v.forEach((x, i) => {
      if (!(x > 0 && x <= Math.PI)) throw new RangeError(`neckLimits: ${names[i]} must be in (0, pi] rad, got ${x}`);
    });
    for (const a of ids) this._neckLimits.set(v, 3 * a);
  }

  /** Start a new episode for some agents (all when omitted): zero state, fresh noise. Styles stay. */
  reset(agents) {
    this._refuseIfBusy("reset");
    const ids = agentIds(agents, this.numAgents);
    for (const a of ids) {
      for (const [name, w] of Object.entries(this._width)) {
        if (name !== "style") this._feed[name].fill(0, a * w, (a + 1) * w);
      }
      this._head.fill(0, 3 * a, 3 * a + 3);
      this._eye.fill(0, 2 * a, 2 * a + 2);
      this._frame[a] = 0;
      this._episode[a] = (this._episode[a] + 1) >>> 0;
    }
  }

  /** gaze (2 numbers for every agent, N*2 numbers or N [pitch, yaw] pairs) -> Float32Array N*2. */
  _gazeFrame(gaze) {
    const n = this.numAgents;
    let flat;
    if (Array.isArray(gaze) && gaze.length === n && Array.isArray(gaze[0])) flat = gaze.flat();
    else flat = Array.from(gaze);
    if (flat.length === 2) flat = Array.from({ length: 2 * n }, (_, i) => flat[i % 2]);
    if (flat.length !== 2 * n) throw new Error(`gaze: expected 2 or ${2 * n} numbers (N = ${n}), got ${flat.length}`);
    const out = new Float32Array(2 * n);
    const prev = this._feed.gaze_prev;
    for (let a = 0; a < n; ++a) {
      let p = flat[2 * a];
      let y = flat[2 * a + 1];
      if (!Number.isFinite(p) || !Number.isFinite(y)) {
        if (this.nanPolicy !== "hold") throw new Error(`gaze: agent ${a} has a non-finite gaze (${p}, ${y})`);
        [p, y] = [prev[2 * a], prev[2 * a + 1]]; // zero before an agent's first frame
      }
      if (Math.abs(p) > HALF_PI || Math.abs(y) > Math.PI) {
        throw new RangeError(
          `gaze: agent ${a} has (pitch, yaw) = (${p}, ${y}); expected |pitch| <= pi/2 and |yaw| <= pi radians (degrees passed?)`,
        );
      }
      out[2 * a] = p;
      out[2 * a + 1] = y;
    }
    return out;
  }

  /**
   * Advance every agent by one model frame (1/fps s).
   * @returns {Promise<{head: Float32Array, eye: Float32Array}>} head N*3 (pitch, yaw, roll) and
   *   eye-in-head N*2 (pitch, yaw), radians, agent-major. Bad input throws before any state
   *   changes; one step at a time (a call while one is in flight throws).
   */
  async step(gaze) {
    this._refuseIfBusy("step");
    const g = this._gazeFrame(gaze);
    const n = this.numAgents;
    const Z = this.model.latentSize;
    const eps = new Float32Array(n * Z);
    for (let a = 0; a < n; ++a) agentNormals(this.seed, a, this._episode[a], this._frame[a], Z, eps, a * Z);
    const groups = new Map(); // neck limits -> agents (one graph call per distinct limits)
    for (let a = 0; a < n; ++a) {
      const key = this._neckLimits.subarray(3 * a, 3 * a + 3).join(",");
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(a);
    }
    this._busy = true;
    let results;
    try {
      const rows = { ...this._feed, gaze: g, eps };
      results = await Promise.all(Array.from(groups.values(), (ids) => this._run(rows, ids)));
    } finally {
      this._busy = false;
    }
    // only now, with every group computed, does the state move on
    const f = this._feed;
    const H = this.model.hiddenSize;
    results.forEach(({ ids, out }) => {
      ids.forEach((a, i) => {
        const copy = (dst, src, w) => dst.set(src.subarray(i * w, (i + 1) * w), a * w);
        copy(this._head, out.head, 3);
        copy(this._eye, out.eye, 2);
        copy(f.head_prev, out.head, 3);
        copy(f.head_vel_prev, out.head_vel, 3);
        copy(f.z_prev, out.z, Z);
        copy(f.s_prev, out.s, H);
      });
    });
    f.gaze_prev.set(g);
    f.gaze.set(g);
    f.has_prev.fill(1);
    for (let a = 0; a < n; ++a) this._frame[a] = (this._frame[a] + 1) >>> 0;
    return { head: this._head.slice(), eye: this._eye.slice() };
  }

  async _run(rows, ids) {
    const all = ids.length === this.numAgents;
    const k = ids.length;
    const feeds = {};
    for (const [name, w] of Object.entries(this._width)) {
      let data = rows[name];
      if (!all) {
        const sub = new Float32Array(k * w);
        ids.forEach((a, i) => sub.set(data.subarray(a * w, (a + 1) * w), i * w));
        data = sub;
      }
      feeds[name] = new ort.Tensor("float32", data, w === 1 ? [k] : [k, w]);
    }
    feeds.temperature = new ort.Tensor("float32", this._temperature.slice(), [1]);
    feeds.neck_limits = new ort.Tensor("float32", this._neckLimits.slice(3 * ids[0], 3 * ids[0] + 3), [3]);
    const r = await this.model.run(feeds);
    const out = {};
    for (const name of this.model.outputNames) out[name] = r[name].data;
    return { ids, out };
  }
}
