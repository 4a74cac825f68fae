// A small static server for the demo and the browser tests: serves web/ (the package, the
// demo page and node_modules) on localhost with the cross-origin isolation headers that let
// onnxruntime-web use WASM threads. `npm run demo` starts it; tests import startServer.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const MODEL_PATH = path.join(WEB_ROOT, "build", "step.onnx");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".onnx": "application/octet-stream",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".map": "application/json",
};

/** Serve `root` on 127.0.0.1:`port` (0: any free port). Resolves to {server, url}. */
export function startServer({ root = WEB_ROOT, port = 0, log = false } = {}) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://localhost");
    let rel = decodeURIComponent(url.pathname);
    if (rel === "/") {
      res.writeHead(302, { Location: "/demo/" });
      res.end();
      return;
    }
    if (rel.endsWith("/")) rel += "index.html";
    const file = path.resolve(root, "." + rel);
    if (!file.startsWith(root + path.sep)) {
      res.writeHead(403).end("forbidden");
      return;
    }
    fs.readFile(file, (err, data) => {
      if (log) console.log(`${err ? 404 : 200} ${req.method} ${url.pathname}`);
      if (err) {
        res.writeHead(404, { "Content-Type": "text/plain" }).end(`not found: ${url.pathname}`);
        return;
      }
      res.writeHead(200, {
        "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Embedder-Policy": "require-corp",
        "Cache-Control": "no-cache",
      });
      res.end(data);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      resolve({ server, url: `http://127.0.0.1:${server.address().port}` });
    });
  });
}

/** The gazehead-rt command to export with: $GAZEHEAD_RT, the repository's venvs, or PATH. */
function findExporter() {
  const repo = path.resolve(WEB_ROOT, "..");
  const candidates = [
    process.env.GAZEHEAD_RT,
    path.join(repo, ".venv", "bin", "gazehead-rt"),
    path.join(repo, ".venv-test", "bin", "gazehead-rt"),
  ].filter(Boolean);
  return candidates.find((c) => fs.existsSync(c)) ?? "gazehead-rt";
}

/** Export the bundled model's step to build/step.onnx unless it is there already. */
export function ensureModel() {
  if (fs.existsSync(MODEL_PATH)) return MODEL_PATH;
  const exe = findExporter();
  console.log(`exporting the default model's step: ${exe} export-onnx -o ${path.relative(process.cwd(), MODEL_PATH)}`);
  fs.mkdirSync(path.dirname(MODEL_PATH), { recursive: true });
  try {
    execFileSync(exe, ["export-onnx", "-o", MODEL_PATH], { stdio: "inherit" });
  } catch (e) {
    throw new Error(
      `could not export the ONNX step with ${exe} (${e.message}). Install gazehead_rt with ` +
        `pip install ".[bench]" (or set GAZEHEAD_RT to its gazehead-rt command) and run ` +
        `gazehead-rt export-onnx -o web/build/step.onnx`,
    );
  }
  return MODEL_PATH;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureModel();
  const port = Number(process.env.PORT ?? 8173);
  const { url } = await startServer({ port });
  console.log(`gazehead_rt demo: ${url}/demo/  (Ctrl-C to stop)`);
}
