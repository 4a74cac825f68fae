// Browser tests of the package and the demo page in headless Chromium (puppeteer-core driving
// the system's browser; nothing downloads one). Needs build/step.onnx (gazehead-rt
// export-onnx) and build/reference.json (test/make_reference.py), both made by
// .ci/web_check.sh from the installed gazehead_rt. Prints "N passed, N failed" last.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import puppeteer from "puppeteer-core";

import { MODEL_PATH, startServer } from "../tools/serve.mjs";
import { CHROMIUM, CHROMIUM_ARGS } from "./browser.mjs";

const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const REFERENCE_PATH = path.join(WEB_ROOT, "build", "reference.json");
const SCREENSHOT_PATH = process.env.GAZEHEAD_SCREENSHOT ?? path.join(WEB_ROOT, "build", "demo.png");

const PARITY_TOL_RAD = 1e-4; // the browser step vs gazehead_rt.Generator over 300 frames
// Box-Muller's logf/cosf/sinf: the browser's are correctly rounded, a C library's may be one
// float32 ulp off (docs/onnx.md §3), about 1e-7 relative on normals of |n| < 6
const PHILOX_TOL = 2e-6;

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

for (const [file, how] of [
  [MODEL_PATH, "gazehead-rt export-onnx -o web/build/step.onnx"],
  [REFERENCE_PATH, "python web/test/make_reference.py -o web/build/reference.json"],
]) {
  if (!fs.existsSync(file)) {
    console.error(`missing ${path.relative(process.cwd(), file)}: run ${how} (or bash .ci/web_check.sh)`);
    process.exit(2);
  }
}
const reference = JSON.parse(fs.readFileSync(REFERENCE_PATH, "utf8"));

const { server, url } = await startServer();
const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
const consoleErrors = [];

async function openPage(pagePath, { width = 1280, height = 720 } = {}) {
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(`${pagePath}: ${m.text()}`);
  });
  page.on("pageerror", (e) => consoleErrors.push(`${pagePath}: ${e.message}`));
  page.on("requestfailed", (r) => consoleErrors.push(`${pagePath}: request failed ${r.url()}`));
  page.on("response", (r) => {
    if (r.status() >= 400) consoleErrors.push(`${pagePath}: HTTP ${r.status()} ${r.url()}`);
  });
  await page.goto(url + pagePath, { waitUntil: "load" });
  return page;
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
const report = {};

const harness = await openPage("/test/harness.html");
await harness.waitForFunction("window.harnessReady === true", { timeout: 30000 });

test("philox: Random123 known answers exact, normals as gazehead_rt.philox_normal", async () => {
  const r = await harness.evaluate((p) => {
    const { philox4x32_10, agentNormals } = window.gazehead;
    const hex = (w) => Array.from(w, (v) => v.toString(16).padStart(8, "0")).join(" ");
    const kat = [
      hex(philox4x32_10(0, 0, 0, 0, 0, 0)),
      hex(philox4x32_10(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)),
      hex(philox4x32_10(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0)),
    ];
    let maxDiff = 0;
    let same = 0;
    const out = new Float32Array(p.latent);
    p.agents.forEach((a, i) => {
      agentNormals(p.seed, a, p.episode[i], p.frame[i], p.latent, out);
      for (let j = 0; j < p.latent; ++j) {
        const d = Math.abs(out[j] - p.normals[i][j]);
        maxDiff = Math.max(maxDiff, d);
        if (d === 0) same += 1;
      }
    });
    return { kat, maxDiff, same, total: p.agents.length * p.latent };
  }, reference.philox);
  // Salmon et al. (SC'11), Random123's kat_vectors for philox4x32_10
  assert(r.kat[0] === "6627e8d5 e169c58d bc57ac4c 9b00dbd8", `KAT 0: ${r.kat[0]}`);
  assert(r.kat[1] === "408f276d 41c83b0e a20bc7c6 6d5451fd", `KAT 1: ${r.kat[1]}`);
  assert(r.kat[2] === "d16cfe09 94fdcceb 5001e420 24126ea1", `KAT 2: ${r.kat[2]}`);
  assert(r.maxDiff <= PHILOX_TOL, `normals differ from gh.philox_normal by ${r.maxDiff}`);
  // nearly all equal bit for bit; the rest are a C library's last-bit rounding
  assert(r.same / r.total > 0.95, `only ${r.same} of ${r.total} normals bit-identical`);
  report.philox = `${r.same}/${r.total} bit-identical, max |diff| ${r.maxDiff.toExponential(1)}`;
});

test("step matches gazehead_rt.Generator (cpu) within 1e-4 rad over 300 frames, styles as the runtime", async () => {
  const r = await harness.evaluate(async (ref) => {
    const { loadModel, GazeHead } = window.gazehead;
    const model = await loadModel("/build/step.onnx", { backend: "wasm" });
    const n = ref.style.length;
    const gh = new GazeHead(model, { numAgents: n, seed: ref.seed });
    let maxHead = 0;
    let maxEye = 0;
    let maxStyle = 0;
    gh.style.forEach((v, i) => (maxStyle = Math.max(maxStyle, Math.abs(v - ref.style[i >> 1][i & 1]))));
    for (let t = 0; t < ref.gaze.length; ++t) {
      if (t === ref.reset.frame) gh.reset(ref.reset.agents);
      const { head, eye } = await gh.step(ref.gaze[t]);
      for (let a = 0; a < n; ++a) {
        for (let k = 0; k < 3; ++k) maxHead = Math.max(maxHead, Math.abs(head[3 * a + k] - ref.head[t][a][k]));
        for (let k = 0; k < 2; ++k) maxEye = Math.max(maxEye, Math.abs(eye[2 * a + k] - ref.eye[t][a][k]));
      }
    }
    const last = ref.head[ref.head.length - 1];
    const yawRange = Math.max(...last.map((h) => Math.abs(h[1])));
    return { maxHead, maxEye, maxStyle, sha: model.modelSha256, fps: model.fps, backend: model.backend, yawRange };
  }, reference.rollout);
  assert(r.sha === reference.rollout.model_sha256, `the ONNX file was exported from another model (${r.sha})`);
  assert(r.backend === "wasm", `backend ${r.backend}`);
  assert(r.fps === reference.rollout.fps, `fps ${r.fps} vs ${reference.rollout.fps}`);
  assert(r.maxStyle <= 1e-6, `default styles differ from the runtime's by ${r.maxStyle}`);
  assert(r.maxHead <= PARITY_TOL_RAD, `head differs from gh.Generator by ${r.maxHead} rad`);
  assert(r.maxEye <= PARITY_TOL_RAD, `eye differs from gh.Generator by ${r.maxEye} rad`);
  report.parity = `max |head - ref| ${r.maxHead.toExponential(2)} rad, max |eye - ref| ${r.maxEye.toExponential(2)} rad (4 agents x 300 frames)`;
});

test("bad input is refused with a message and leaves the state unchanged", async () => {
  const r = await harness.evaluate(async () => {
    const { loadModel, GazeHead } = window.gazehead;
    const model = await loadModel("/build/step.onnx", { backend: "wasm" });
    const gh = new GazeHead(model, { numAgents: 2, seed: 3 });
    await gh.step([0.1, 0.3]);
    const before = JSON.stringify([gh.head, gh.eye, gh.style]);
    const errors = {};
    const attempt = async (name, fn) => {
      try {
        await fn();
        errors[name] = null;
      } catch (e) {
        errors[name] = e.message;
      }
    };
    await attempt("shape", () => gh.step([0.1, 0.2, 0.3]));
    await attempt("nan", () => gh.step([0.1, NaN, 0.2, 0.3]));
    await attempt("degrees", () => gh.step([10, 45]));
    await attempt("temperature", () => gh.setTemperature(11));
    await attempt("agent", () => gh.reset([2]));
    await attempt("knob", () => gh.setStyle({ speed: 1 }));
    await attempt("neck", () => gh.setNeckLimits([0.5, 0, 0.5]));
    const unchanged = before === JSON.stringify([gh.head, gh.eye, gh.style]);
    const inFlight = gh.step([0.1, 0.3]);
    await attempt("busy", () => gh.step([0.1, 0.3]));
    await inFlight;
    // the same seed, a fresh instance and a reset instance: the same frames
    const a = new GazeHead(model, { numAgents: 2, seed: 3 });
    const h1 = (await a.step([0.1, 0.3])).head;
    const h2 = (await a.step([0.1, 0.5])).head;
    a.reset();
    const h1b = (await a.step([0.1, 0.3])).head; // a new episode: new noise
    const b = new GazeHead(model, { numAgents: 2, seed: 3 });
    const same = (await b.step([0.1, 0.3])).head.every((v, i) => v === h1[i]);
    const hold = new GazeHead(model, { numAgents: 1, seed: 3, nanPolicy: "hold" });
    await hold.step([0.05, 0.2]);
    let holdOk = true;
    await hold.step([NaN, 0.3]).catch(() => (holdOk = false));
    return { errors, unchanged, same, h2: Array.from(h2), episodeDiffers: h1b.some((v, i) => v !== h1[i]), holdOk };
  });
  const e = r.errors;
  assert(/gaze: expected 2 or 4 numbers/.test(e.shape), `shape: ${e.shape}`);
  assert(/agent 0 has a non-finite gaze/.test(e.nan), `nan: ${e.nan}`);
  assert(/degrees passed/.test(e.degrees), `degrees: ${e.degrees}`);
  assert(/temperature/.test(e.temperature), `temperature: ${e.temperature}`);
  assert(/id 2 is out of range for 2 agents/.test(e.agent), `agent: ${e.agent}`);
  assert(/unknown knobs speed/.test(e.knob), `knob: ${e.knob}`);
  assert(/yaw must be in/.test(e.neck), `neck: ${e.neck}`);
  assert(/a step is in flight/.test(e.busy), `busy: ${e.busy}`);
  assert(r.unchanged, "a refused call changed the state");
  assert(r.same, "the same seed gave different motion");
  assert(r.episodeDiffers, "reset() did not start a new episode (same noise)");
  assert(r.holdOk, 'nanPolicy "hold" refused a NaN gaze');
});

test("agents with different neck limits run as groups: each row as in a batch with those limits", async () => {
  const r = await harness.evaluate(async () => {
    const { loadModel, GazeHead } = window.gazehead;
    const model = await loadModel("/build/step.onnx", { backend: "wasm" });
    const narrow = [0.2, 0.35, 0.15];
    // temperature 0: no noise, so a row depends only on its own inputs and limits
    const opts = { numAgents: 3, seed: 5, temperature: 0, style: "mean" };
    const mixed = new GazeHead(model, opts);
    mixed.setNeckLimits(narrow, [1]);
    const wide = new GazeHead(model, opts);
    const tight = new GazeHead(model, { ...opts, neckLimits: narrow });
    let maxDiff = 0;
    let maxYaw1 = 0;
    for (let t = 0; t < 60; ++t) {
      const g = [0.1, 1.2, -0.2, -1.0, 0.3, 0.9].map((v) => v * Math.min(1, t / 10));
      const [m, w, n] = await Promise.all([mixed.step(g), wide.step(g), tight.step(g)]);
      for (let k = 0; k < 9; ++k) {
        const ref = (k >= 3 && k < 6 ? n : w).head[k];
        maxDiff = Math.max(maxDiff, Math.abs(m.head[k] - ref));
      }
      maxYaw1 = Math.max(maxYaw1, Math.abs(m.head[4]));
    }
    return { maxDiff, maxYaw1, limits: Array.from(mixed.neckLimits) };
  });
  assert(r.maxDiff === 0, `grouped rows differ from uniform batches by ${r.maxDiff}`);
  assert(r.maxYaw1 <= 0.35 + 1e-6, `agent 1's head yaw ${r.maxYaw1} passed its 0.35 rad limit`);
  assert(Math.abs(r.limits[4] - 0.35) < 1e-7 && Math.abs(r.limits[1] - 1.309) < 1e-3, `limits ${r.limits}`);
});

let demo;
test("demo page: loads, runs the model, the head turns toward a pointer 60 deg to the side", async () => {
  demo = await openPage("/demo/?scripted=0");
  await demo.waitForFunction("window.gazeheadDemo && (window.gazeheadDemo.ready || window.gazeheadDemo.error)", {
    timeout: 30000,
  });
  const err = await demo.evaluate(() => window.gazeheadDemo.error);
  assert(!err, `demo failed: ${err}`);
  const at = async (yawDeg) => {
    const p = await demo.evaluate((y) => window.gazeheadDemo.screenPointForGaze(y, 0), yawDeg);
    await demo.mouse.move(p.x, p.y, { steps: 4 });
  };
  // wait for model frames, not wall time: a slow (software-rendered) page runs fewer per second
  const settle = async (frames) => {
    const f0 = await demo.evaluate(() => window.gazeheadDemo.frames);
    await demo.waitForFunction((f) => window.gazeheadDemo.frames >= f, { timeout: 90000 }, f0 + frames);
    const t = await demo.evaluate(() => ({ ...window.gazeheadDemo }));
    await new Promise((r) => setTimeout(r, 300)); // the baseline is updated per display frame
    const b = await demo.evaluate(() => [window.gazeheadDemo.baselineGaze, window.gazeheadDemo.baselineHead]);
    return { ...t, baselineGaze: b[0], baselineHead: b[1] };
  };
  await at(0);
  const ahead = await settle(45);
  await at(60);
  const side = await settle(60); // 2 s at 30 fps
  const deg = (v) => (v * 180) / Math.PI;
  assert(Math.abs(deg(ahead.gaze[1])) < 2, `gaze yaw ahead ${deg(ahead.gaze[1])} deg`);
  assert(Math.abs(deg(ahead.head[1])) < 15, `head yaw with the target ahead ${deg(ahead.head[1])} deg`);
  assert(Math.abs(deg(side.gaze[1]) - 60) < 1, `gaze yaw at the side ${deg(side.gaze[1])} deg, expected 60`);
  assert(deg(side.head[1]) > 25, `the model head turned only ${deg(side.head[1])} deg toward a 60 deg target`);
  assert(deg(side.head[1]) < 75, `the model head overshot to ${deg(side.head[1])} deg`);
  // the eye makes up the rest: gaze = head + eye (in yaw, at pitch 0), within the eye limit
  const rest = deg(side.gaze[1] - side.head[1] - side.eye[1]);
  assert(Math.abs(rest) < 3, `gaze yaw - head - eye = ${rest} deg`);
  // the baseline, a metre to the side, sees the target at its own angle: head = 0.6 gaze
  const bg = deg(side.baselineGaze[1]);
  assert(Math.abs(deg(side.baselineHead[1]) - 0.6 * bg) < 1, `baseline head ${deg(side.baselineHead[1])} for gaze ${bg}`);
  report.pointer = `head yaw ${deg(side.head[1]).toFixed(1)} deg, eye ${deg(side.eye[1]).toFixed(1)} deg, (baseline ${deg(side.baselineHead[1]).toFixed(1)} deg for its own ${bg.toFixed(1)} deg)`;
});

test("demo screenshot is not blank: varied pixels, the model head stands out from the background", async () => {
  assert(demo, "the demo page did not open");
  const p = await demo.evaluate(() => window.gazeheadDemo.screenPointForGaze(25, 8));
  await demo.mouse.move(p.x, p.y, { steps: 3 });
  const f0 = await demo.evaluate(() => window.gazeheadDemo.frames);
  await demo.waitForFunction((f) => window.gazeheadDemo.frames >= f, { timeout: 90000 }, f0 + 20);
  const headBox = await demo.evaluate(() => window.gazeheadDemo.headScreenBox(0));
  fs.mkdirSync(path.dirname(SCREENSHOT_PATH), { recursive: true });
  const png = await demo.screenshot({ path: SCREENSHOT_PATH, type: "png" });
  const stats = await harness.evaluate(
    async (b64, box) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement("canvas");
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext("2d");
      ctx.drawImage(img, 0, 0);
      const lum = (d, i) => 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
      const all = ctx.getImageData(0, 0, c.width, c.height).data;
      let s = 0;
      let s2 = 0;
      const count = all.length / 4;
      for (let i = 0; i < all.length; i += 4) {
        const l = lum(all, i);
        s += l;
        s2 += l * l;
      }
      const variance = s2 / count - (s / count) ** 2;
      // skin-coloured pixels (red above blue) in the head's box; the background is blue-grey
      const d = ctx.getImageData(box.x, box.y, box.w, box.h).data;
      let skin = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > d[i + 2] + 25 && d[i] > 90) skin += 1;
      return { variance, skinShare: skin / (d.length / 4), width: c.width, height: c.height };
    },
    Buffer.from(png).toString("base64"),
    headBox,
  );
  assert(stats.width === 1280 && stats.height === 720, `screenshot ${stats.width}x${stats.height}`);
  assert(stats.variance > 100, `screenshot luminance variance ${stats.variance.toFixed(1)}: blank?`);
  assert(stats.skinShare > 0.2, `only ${(100 * stats.skinShare).toFixed(1)}% skin pixels where the model head should be`);
  report.screenshot = `${path.relative(process.cwd(), SCREENSHOT_PATH)} (variance ${stats.variance.toFixed(0)}, head box ${(100 * stats.skinShare).toFixed(0)}% skin)`;
});

test("no console errors, failed requests or page errors", async () => {
  assert(consoleErrors.length === 0, consoleErrors.join("\n"));
});

let passed = 0;
let failed = 0;
for (const { name, fn } of tests) {
  const t0 = Date.now();
  try {
    await fn();
    passed += 1;
    console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}\n     ${String(e.message).replaceAll("\n", "\n     ")}`);
  }
}
for (const [k, v] of Object.entries(report)) console.log(`  ${k}: ${v}`);
await browser.close();
server.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
