// The demo: faces looking at a target that follows the pointer (or a script). The model heads
// run gazehead_rt's step (GazeHead, one batch for all of them); the baseline head is
// head = 0.6 * lowpass(gaze). World frame: three.js, y up, the faces look toward +z (the
// viewer). A character's body frame B (x forward, y left, z up; docs/integration.md §1) is
// then world (z, x, y).
import * as THREE from "three";
import { GazeHead, loadModel, ProportionalBaseline } from "gazehead-web";

const MODEL_URL = "/build/step.onnx";
const TARGET_PLANE_DZ = 0.55; // the target moves in a plane this far in front of the front faces, m
const DEG = 180 / Math.PI;
const MAX_CATCHUP_S = 0.25; // as gazehead_rt's RateAdapter: a long hitch drops time instead of freezing

const params = new URLSearchParams(location.search);
const backend = params.get("backend") ?? "wasm"; // ?backend=webgpu or auto to try WebGPU
// ?quality=low: no shadows, no antialiasing, for software-rendered browsers (headless tests)
const lowQuality = params.get("quality") === "low";

// ---- scene -----------------------------------------------------------------------------
const canvas = document.getElementById("view");
const renderer = new THREE.WebGLRenderer({ canvas, antialias: !lowQuality, alpha: true });
renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
renderer.shadowMap.enabled = !lowQuality;
renderer.shadowMap.type = THREE.PCFSoftShadowMap;
renderer.toneMapping = THREE.ACESFilmicToneMapping;
renderer.outputColorSpace = THREE.SRGBColorSpace;

const scene = new THREE.Scene();
const camera = new THREE.PerspectiveCamera(32, 1, 0.05, 50);
camera.position.set(0.3, 0.32, 3.1); // a little right of centre: the control panel is on the right
camera.lookAt(0.3, 0.02, -0.2);

scene.add(new THREE.HemisphereLight(0xcfe0ff, 0x3a2c26, 1.1));
const key = new THREE.DirectionalLight(0xfff1e0, 2.4);
key.position.set(-1.6, 2.4, 2.6);
key.castShadow = true;
key.shadow.mapSize.set(1024, 1024);
key.shadow.camera.left = -3;
key.shadow.camera.right = 3;
key.shadow.camera.top = 2;
key.shadow.camera.bottom = -2;
key.shadow.bias = -0.0005;
scene.add(key);
const rim = new THREE.DirectionalLight(0x9fb8ff, 1.3);
rim.position.set(2.5, 1.2, -2.5);
scene.add(rim);

const floor = new THREE.Mesh(
  new THREE.CircleGeometry(6, 64),
  new THREE.MeshStandardMaterial({ color: 0x2a3142, roughness: 0.95 }),
);
floor.rotation.x = -Math.PI / 2;
floor.position.y = -0.62;
floor.receiveShadow = true;
scene.add(floor);

function material(color, roughness = 0.6, extra = {}) {
  return new THREE.MeshStandardMaterial({ color, roughness, ...extra });
}

/** A stylized bust: torso and neck fixed, the head turning about the top of the neck, and two
 * eyes turning in the head. Returns {root, head, eyes, eyeCentre}. */
function makeBust({ skin, shirt, hair, iris }) {
  const root = new THREE.Group();
  const mesh = (geo, mat, pos = [0, 0, 0], scale = [1, 1, 1], parent = root) => {
    const m = new THREE.Mesh(geo, mat);
    m.position.set(...pos);
    m.scale.set(...scale);
    m.castShadow = true;
    m.receiveShadow = true;
    parent.add(m);
    return m;
  };
  const skinMat = material(skin, 0.55);
  const shirtMat = material(shirt, 0.8);
  mesh(new THREE.CylinderGeometry(0.19, 0.17, 0.4, 32), shirtMat, [0, -0.43, -0.02], [1, 1, 0.58]);
  const shoulders = mesh(new THREE.CapsuleGeometry(0.07, 0.27, 8, 24), shirtMat, [0, -0.25, -0.02], [1, 1, 0.8]);
  shoulders.rotation.z = Math.PI / 2;
  mesh(new THREE.CylinderGeometry(0.048, 0.056, 0.14, 24), skinMat, [0, -0.15, -0.01]);

  const head = new THREE.Group(); // pivot: the top of the neck
  head.position.set(0, -0.1, -0.01);
  head.rotation.order = "YXZ"; // R = Ry(yaw) Rx(-pitch) Rz(roll): B's Rz(yaw) Ry(-pitch) Rx(roll)
  root.add(head);
  const skull = new THREE.SphereGeometry(0.1, 48, 32);
  mesh(skull, skinMat, [0, 0.125, 0.005], [0.92, 1.18, 1.02], head);
  mesh(new THREE.SphereGeometry(0.1, 48, 32, 0, Math.PI * 2, 0, Math.PI * 0.5), material(hair, 0.85), [0, 0.145, -0.006], [0.97, 1.13, 1.07], head);
  mesh(new THREE.SphereGeometry(0.1, 32, 16), material(hair, 0.85), [0, 0.12, -0.03], [0.95, 0.95, 0.85], head);
  mesh(new THREE.ConeGeometry(0.016, 0.045, 16), skinMat, [0, 0.105, 0.112], [1, 1, 0.7], head).rotation.x = Math.PI / 2.2;
  for (const side of [-1, 1]) {
    mesh(new THREE.SphereGeometry(0.022, 16, 12), skinMat, [side * 0.091, 0.12, 0.0], [0.45, 1, 0.8], head);
  }
  mesh(new THREE.TorusGeometry(0.022, 0.004, 8, 24, Math.PI), material(0x9a4b48, 0.5), [0, 0.07, 0.095], [1, 0.6, 1], head).rotation.z = Math.PI;

  const eyes = [];
  const eyeY = 0.14;
  const white = material(0xf4f1ea, 0.25);
  const irisMat = material(iris, 0.35);
  const pupilMat = material(0x0a0a0a, 0.2);
  const irisGeo = new THREE.SphereGeometry(0.0205, 24, 12, 0, Math.PI * 2, 0, 0.62);
  const pupilGeo = new THREE.SphereGeometry(0.0208, 24, 12, 0, Math.PI * 2, 0, 0.3);
  for (const side of [-1, 1]) {
    const eye = new THREE.Group();
    eye.position.set(side * 0.036, eyeY, 0.078);
    eye.rotation.order = "YXZ";
    head.add(eye);
    mesh(new THREE.SphereGeometry(0.02, 24, 16), white, [0, 0, 0], [1, 1, 1], eye);
    const irisMesh = mesh(irisGeo, irisMat, [0, 0, 0], [1, 1, 1], eye);
    irisMesh.rotation.x = Math.PI / 2; // the cap's pole (+y) to the front (+z)
    const pupilMesh = mesh(pupilGeo, pupilMat, [0, 0, 0], [1, 1, 1], eye);
    pupilMesh.rotation.x = Math.PI / 2;
    const lid = mesh(new THREE.SphereGeometry(0.0215, 24, 12, 0, Math.PI * 2, 0, 0.9), skinMat, [0, 0, 0], [1, 1, 1], head);
    lid.position.copy(eye.position);
    lid.rotation.x = -0.35; // upper lid over the top of the eyeball, fixed to the head
    eyes.push(eye);
  }
  return { root, head, eyes, eyeCentre: new THREE.Vector3(0, -0.1 + eyeY, 0.07) };
}

/** A body-frame angle pair to the three.js rotation of a head or eye group. */
function applyHead(group, pitch, yaw, roll = 0) {
  group.rotation.set(-pitch, yaw, roll);
}

const SKINS = [0xe2b799, 0xc68e6c, 0x8d5a3b, 0xf0c9ad, 0xb07a58];
const busts = [
  // agent 0 of the model (slider style), front left
  { kind: "model", pos: [-0.5, 0, 0], scale: 1, look: { skin: SKINS[0], shirt: 0xd9823b, hair: 0x3b2618, iris: 0x3f7fbf } },
  // the baseline, front right
  { kind: "baseline", pos: [0.5, 0, 0], scale: 1, look: { skin: SKINS[3], shirt: 0x4f78c4, hair: 0x6b4a2a, iris: 0x4f8f4f } },
  // a small crowd at the back: population styles
  { kind: "model", pos: [-1.2, 0.02, -0.95], scale: 0.85, look: { skin: SKINS[2], shirt: 0x4e9a72, hair: 0x161010, iris: 0x5a3a20 } },
  { kind: "model", pos: [0, 0.02, -1.05], scale: 0.85, look: { skin: SKINS[1], shirt: 0x9a5fb4, hair: 0x2a1a10, iris: 0x6b4a2a } },
  { kind: "model", pos: [1.2, 0.02, -0.95], scale: 0.85, look: { skin: SKINS[4], shirt: 0xc0534f, hair: 0x8a6a3a, iris: 0x3f6f9f } },
];
for (const b of busts) {
  Object.assign(b, makeBust(b.look));
  b.root.position.set(...b.pos);
  b.root.scale.setScalar(b.scale);
  scene.add(b.root);
  b.root.updateMatrixWorld(true);
  b.eyeWorld = b.eyeCentre.clone().multiplyScalar(b.scale).add(new THREE.Vector3(...b.pos));
}
const modelBusts = busts.filter((b) => b.kind === "model");
const baselineBust = busts.find((b) => b.kind === "baseline");
const front = busts[0];

const target = new THREE.Group();
target.add(new THREE.Mesh(new THREE.SphereGeometry(0.028, 24, 16), new THREE.MeshBasicMaterial({ color: 0xffa040 })));
const halo = new THREE.Mesh(new THREE.RingGeometry(0.04, 0.05, 40), new THREE.MeshBasicMaterial({ color: 0xffc680, transparent: true, opacity: 0.7, side: THREE.DoubleSide }));
target.add(halo);
const targetLight = new THREE.PointLight(0xffa040, 0.35, 1.5);
target.add(targetLight);
scene.add(target);
const planeZ = front.eyeWorld.z + TARGET_PLANE_DZ;
const targetPos = new THREE.Vector3(0, front.eyeWorld.y, planeZ);

/** Gaze (pitch, yaw) of an eye at `from` looking at `to` (world points), in the body frame. */
function gazeTo(from, to) {
  const dx = to.z - from.z; // B x: forward
  const dy = to.x - from.x; // B y: left (the character faces the viewer)
  const dz = to.y - from.y; // B z: up
  return [Math.atan2(dz, Math.hypot(dx, dy)), Math.atan2(dy, dx)];
}

/** Where the front model head's eyes see (yaw, pitch) degrees, on the target plane, in CSS px. */
function screenPointForGaze(yawDeg, pitchDeg = 0) {
  const p = pitchDeg / DEG;
  const y = yawDeg / DEG;
  const d = new THREE.Vector3(Math.cos(p) * Math.sin(y), Math.sin(p), Math.cos(p) * Math.cos(y));
  const t = (planeZ - front.eyeWorld.z) / d.z;
  const world = front.eyeWorld.clone().addScaledVector(d, t).project(camera);
  const r = canvas.getBoundingClientRect();
  return { x: r.left + ((world.x + 1) / 2) * r.width, y: r.top + ((1 - world.y) / 2) * r.height };
}

/** The screen box (CSS px) around the face of bust i, for the tests. */
function headScreenBox(i) {
  const b = busts[i];
  const c = new THREE.Vector3(b.pos[0], b.pos[1] + 0.02 * b.scale, b.pos[2] + 0.05 * b.scale);
  const r = canvas.getBoundingClientRect();
  const px = (v) => [((v.x + 1) / 2) * r.width, ((1 - v.y) / 2) * r.height];
  const [x0, y0] = px(c.clone().add(new THREE.Vector3(-0.06 * b.scale, 0.07 * b.scale, 0)).project(camera));
  const [x1, y1] = px(c.clone().add(new THREE.Vector3(0.06 * b.scale, -0.04 * b.scale, 0)).project(camera));
  return { x: Math.round(x0), y: Math.round(y0), w: Math.round(x1 - x0), h: Math.round(y1 - y0) };
}

const raycaster = new THREE.Raycaster();
const targetPlane = new THREE.Plane(new THREE.Vector3(0, 0, 1), -planeZ);
// the pointer drives the target while it is over the scene; the script takes over when it leaves
canvas.addEventListener("pointermove", (e) => {
  document.getElementById("scripted").checked = false;
  const r = canvas.getBoundingClientRect();
  const ndc = new THREE.Vector2(((e.clientX - r.left) / r.width) * 2 - 1, 1 - ((e.clientY - r.top) / r.height) * 2);
  raycaster.setFromCamera(ndc, camera);
  raycaster.ray.intersectPlane(targetPlane, targetPos);
});
document.documentElement.addEventListener("pointerleave", () => {
  document.getElementById("scripted").checked = true;
});

// A scripted target: fixations of 0.6-1.6 s joined by quick moves, as a person looking around.
const script = { next: 0, from: new THREE.Vector3(), to: new THREE.Vector3(0, front.eyeWorld.y, planeZ), t0: 0 };
let seed = 12345;
function rand() {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
}
function scriptedTarget(nowS) {
  if (nowS >= script.next) {
    script.from.copy(targetPos);
    const yaw = (rand() * 2 - 1) * 65;
    const pitch = (rand() * 2 - 1) * 18;
    const p = screenPointForGaze(yaw, pitch);
    const r = canvas.getBoundingClientRect();
    const ndc = new THREE.Vector2(((p.x - r.left) / r.width) * 2 - 1, 1 - ((p.y - r.top) / r.height) * 2);
    raycaster.setFromCamera(ndc, camera);
    raycaster.ray.intersectPlane(targetPlane, script.to);
    script.t0 = nowS;
    script.next = nowS + 0.6 + rand() * 1.0;
  }
  const s = Math.min(1, (nowS - script.t0) / 0.12);
  const smooth = s * s * (3 - 2 * s);
  targetPos.lerpVectors(script.from, script.to, smooth);
}

// ---- labels ------------------------------------------------------------------------------
const labelsEl = document.getElementById("labels");
for (const b of busts) {
  b.label = document.createElement("div");
  b.label.className = `label ${b.kind}${b.scale < 1 ? " small" : ""}`;
  b.label.innerHTML = "<b></b><span></span>";
  labelsEl.appendChild(b.label);
}
front.label.querySelector("b").textContent = "gazehead_rt model";
baselineBust.label.querySelector("b").textContent = "baseline: 0.6 · lowpass(gaze)";
function placeLabels() {
  const r = canvas.getBoundingClientRect();
  for (const b of busts) {
    const p = new THREE.Vector3(b.pos[0], b.pos[1] - 0.66 * b.scale, b.pos[2] + 0.15).project(camera);
    b.label.style.left = `${((p.x + 1) / 2) * r.width}px`;
    b.label.style.top = `${((1 - p.y) / 2) * r.height}px`;
  }
}

function resize() {
  const w = window.innerWidth;
  const h = window.innerHeight;
  renderer.setSize(w, h, false);
  camera.aspect = w / h;
  camera.updateProjectionMatrix();
  placeLabels();
}
window.addEventListener("resize", resize);
resize();

// ---- motion ------------------------------------------------------------------------------
const statusEl = document.getElementById("status");
const ui = Object.fromEntries(["prop", "idle", "temp", "scripted", "reset"].map((id) => [id, document.getElementById(id)]));
const out = Object.fromEntries(["prop", "idle", "temp"].map((id) => [id, document.getElementById(`${id}-out`)]));

const demo = {
  ready: false,
  error: null,
  frames: 0,
  gaze: null,
  head: null,
  eye: null,
  baselineHead: null,
  stepMs: 0,
  screenPointForGaze,
  headScreenBox,
};
if (params.get("scripted") === "0") ui.scripted.checked = false;
window.gazeheadDemo = demo;

function fmtStyle(s) {
  return `propensity ${s[0].toFixed(2)} · idle ${s[1].toFixed(2)}`;
}

async function main() {
  const model = await loadModel(MODEL_URL, { backend });
  const gh = new GazeHead(model, { numAgents: modelBusts.length, seed: 7 });
  // the front head starts from the population mean; the back row keeps its population draws
  gh.setStyle("mean", [0]);
  const baseline = new ProportionalBaseline({ numAgents: 1, gain: 0.6, tauS: 0.2 });
  const n = gh.numAgents;
  const frameS = 1 / gh.fps;

  const [propMean, idleMean] = model.styleMean;
  const [propStd, idleStd] = model.styleStd;
  ui.prop.min = (propMean - 3 * propStd).toFixed(2);
  ui.prop.max = (propMean + 3 * propStd).toFixed(2);
  ui.idle.min = (idleMean - 3 * idleStd).toFixed(2);
  ui.idle.max = (idleMean + 3 * idleStd).toFixed(2);
  ui.prop.value = propMean;
  ui.idle.value = idleMean;
  const showUi = () => {
    out.prop.textContent = Number(ui.prop.value).toFixed(2);
    out.idle.textContent = Number(ui.idle.value).toFixed(2);
    out.temp.textContent = Number(ui.temp.value).toFixed(2);
  };
  showUi();
  // style and temperature change between steps only (GazeHead refuses while one is in flight)
  let pendingStyle = null;
  let pendingTemp = null;
  ui.prop.addEventListener("input", () => ((pendingStyle = true), showUi()));
  ui.idle.addEventListener("input", () => ((pendingStyle = true), showUi()));
  ui.temp.addEventListener("input", () => ((pendingTemp = Number(ui.temp.value)), showUi()));
  let pendingReset = false;
  ui.reset.addEventListener("click", () => (pendingReset = true));

  const styles = gh.style;
  modelBusts.forEach((b, i) => {
    if (i > 0) b.label.querySelector("b").textContent = "population style";
    b.styleText = fmtStyle(styles.subarray(2 * i, 2 * i + 2));
  });

  // model frames come at fps; the display interpolates between the last two (one frame behind,
  // as gazehead_rt's RateAdapter), the target is sampled when a frame is due
  let prev = null;
  let curr = null;
  let accS = 0;
  let busy = false;
  let lastT = performance.now() / 1000;
  const gazeOf = () => {
    const g = new Float32Array(2 * n);
    modelBusts.forEach((b, i) => g.set(gazeTo(b.eyeWorld, targetPos), 2 * i));
    return g;
  };

  // runs the model frames that came due (at most MAX_CATCHUP_S worth), one graph call each
  async function advance() {
    busy = true;
    try {
      while (accS >= frameS) {
        applyPending();
        const g = gazeOf();
        const t0 = performance.now();
        const r = await gh.step(g);
        demo.stepMs = demo.frames ? 0.9 * demo.stepMs + 0.1 * (performance.now() - t0) : performance.now() - t0;
        accS -= frameS;
        prev = curr ?? r;
        curr = r;
        demo.frames += 1;
        demo.gaze = Array.from(g);
        demo.head = Array.from(r.head);
        demo.eye = Array.from(r.eye);
      }
    } catch (e) {
      demo.error = String(e);
      console.error(e);
    } finally {
      busy = false;
    }
  }

  function applyPending() {
    if (pendingStyle) {
      gh.setStyle([Number(ui.prop.value), Number(ui.idle.value)], [0]);
      front.styleText = fmtStyle(gh.style.subarray(0, 2));
      pendingStyle = null;
    }
    if (pendingTemp !== null) {
      gh.setTemperature(pendingTemp);
      pendingTemp = null;
    }
    if (pendingReset) {
      gh.reset();
      baseline.reset();
      prev = curr = null;
      pendingReset = false;
    }
  }

  function render() {
    const now = performance.now() / 1000;
    const dt = Math.min(now - lastT, MAX_CATCHUP_S);
    lastT = now;
    if (ui.scripted.checked) scriptedTarget(now);
    target.position.copy(targetPos);
    halo.lookAt(camera.position);
    accS = Math.min(accS + dt, MAX_CATCHUP_S);
    if (!busy && accS >= frameS) advance();
    if (curr) {
      const a = Math.min(1, accS / frameS); // the pose one model frame behind the clock
      modelBusts.forEach((b, i) => {
        const h = [0, 1, 2].map((k) => prev.head[3 * i + k] + a * (curr.head[3 * i + k] - prev.head[3 * i + k]));
        const e = [0, 1].map((k) => prev.eye[2 * i + k] + a * (curr.eye[2 * i + k] - prev.eye[2 * i + k]));
        applyHead(b.head, h[0], h[1], h[2]);
        for (const eye of b.eyes) applyHead(eye, e[0], e[1]);
        b.label.querySelector("span").textContent = `${b.styleText} · head yaw ${(h[1] * DEG).toFixed(0)}°`;
      });
    }
    const gb = gazeTo(baselineBust.eyeWorld, targetPos);
    const rb = baseline.update(gb, dt);
    applyHead(baselineBust.head, rb.head[0], rb.head[1], 0);
    for (const eye of baselineBust.eyes) applyHead(eye, rb.eye[0], rb.eye[1]);
    baselineBust.label.querySelector("span").textContent = `fixed share, no dynamics · head yaw ${(rb.head[1] * DEG).toFixed(0)}°`;
    demo.baselineGaze = gb;
    demo.baselineHead = Array.from(rb.head);
    placeLabels();
    renderer.render(scene, camera);
    statusEl.textContent = `${model.backend.toUpperCase()} · ${n} agents at ${gh.fps} fps · step ${demo.stepMs.toFixed(2)} ms`;
    requestAnimationFrame(render);
  }
  requestAnimationFrame(render);
  demo.ready = true;
}

main().catch((e) => {
  demo.error = String(e);
  statusEl.textContent = `error: ${e.message}`;
  console.error(e);
});
