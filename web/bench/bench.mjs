// Time per frame of GazeHead.step in headless Chromium (WASM; WebGPU where the browser has an
// adapter), for a few agent counts. Needs build/step.onnx (gazehead-rt export-onnx).
//   node bench/bench.mjs [--agents 1,256] [--frames 300]
import { parseArgs } from "node:util";

import puppeteer from "puppeteer-core";

import { ensureModel, startServer } from "../tools/serve.mjs";
import { CHROMIUM, CHROMIUM_ARGS } from "../test/browser.mjs";

const { values } = parseArgs({
  options: { agents: { type: "string", default: "1,256" }, frames: { type: "string", default: "300" } },
});
const agentCounts = values.agents.split(",").map(Number);
const frames = Number(values.frames);

ensureModel();
const { server, url } = await startServer();
const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [...CHROMIUM_ARGS, "--enable-unsafe-webgpu"], // WebGPU on SwiftShader where no GPU
  protocolTimeout: 600000,
});
const page = await browser.newPage();
await page.goto(`${url}/test/harness.html`);
await page.waitForFunction("window.harnessReady === true");
const env = await page.evaluate(async () => ({
  userAgent: navigator.userAgent,
  cores: navigator.hardwareConcurrency,
  isolated: crossOriginIsolated,
  webgpu: !!navigator.gpu && (await navigator.gpu.requestAdapter().catch(() => null)) !== null,
}));
console.log(`${env.userAgent}\n${env.cores} cores, crossOriginIsolated ${env.isolated}, WebGPU adapter: ${env.webgpu ? "yes" : "none"}`);

const backends = env.webgpu ? ["wasm", "webgpu"] : ["wasm"];
console.log("backend  agents  ms/frame (min)  (median)  (p90)  us/agent (median)");
for (const backend of backends) {
  for (const n of agentCounts) {
    // software WebGPU (SwiftShader) takes a tenth of a second and more per frame: fewer frames
    const timed = backend === "webgpu" ? Math.min(frames, 20) : frames;
    const r = await page.evaluate(
      async (backend, n, frames) => {
        const { loadModel, GazeHead } = window.gazehead;
        const model = await loadModel("/build/step.onnx", { backend });
        const gh = new GazeHead(model, { numAgents: n, seed: 1 });
        const gaze = new Float32Array(2 * n);
        const times = [];
        const warm = Math.min(30, frames);
        for (let t = 0; t < frames + warm; ++t) {
          for (let a = 0; a < n; ++a) {
            gaze[2 * a] = 0.2 * Math.sin(0.05 * t + a);
            gaze[2 * a + 1] = 0.8 * Math.sin(0.03 * t + 0.5 * a);
          }
          const t0 = performance.now();
          await gh.step(gaze);
          if (t >= warm) times.push(performance.now() - t0); // the first frames warm up
        }
        times.sort((x, y) => x - y);
        return { min: times[0], median: times[times.length >> 1], p90: times[Math.floor(0.9 * times.length)] };
      },
      backend,
      n,
      timed,
    );
    console.log(
      `${backend.padEnd(8)} ${String(n).padStart(6)}  ${r.min.toFixed(3).padStart(14)}  ${r.median.toFixed(3).padStart(8)}  ${r.p90.toFixed(3).padStart(5)}  ${((1000 * r.median) / n).toFixed(1).padStart(18)}`,
    );
  }
}
await browser.close();
server.close();
console.log(`(${frames} frames timed per configuration, 20 on WebGPU)`);
