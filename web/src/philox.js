// The runtime's noise in JavaScript (docs/onnx.md §3, csrc/core/include/gazehead/philox.h):
// eps for agent a, frame t of episode e, latent lane j is word j % 4 of Philox4x32-10 with
// key (seed, a) and counter (t, j / 4, e, 0), made normal by Box-Muller in float32 math.
//
// The integer part is exact (32-bit words, the 64-bit products split into 16-bit halves so
// every partial product is exact in a double). The float part rounds every operation to
// float32 with Math.fround as the C code does; Math.log/cos/sin rounded to float32 are the
// correctly rounded values, while a C library's logf/cosf/sinf may be off by one unit in the
// last place in about 1% of draws, so a normal can differ from the C one by 1 ulp (< 1e-6).

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TWO_PI_F = Math.fround(6.283185307179586);
const INV_2_24 = 1 / 16777216;
const f32 = Math.fround;

/** High 32 bits of the 64-bit product of two uint32 (exact). */
function mulhi32(a, b) {
  const aL = a & 0xffff;
  const aH = a >>> 16;
  const bL = b & 0xffff;
  const bH = b >>> 16;
  const lh = aL * bH;
  const hl = aH * bL;
  const cross = ((aL * bL) >>> 16) + (lh & 0xffff) + (hl & 0xffff); // < 2^18
  return (aH * bH + (lh >>> 16) + (hl >>> 16) + (cross >>> 16)) >>> 0;
}

/**
 * Philox4x32-10 (Salmon et al., SC'11) of counter (c0, c1, c2, c3) and key (k0, k1), all
 * uint32. Writes the four output words into `out` (a Uint32Array of 4, or a new one).
 */
export function philox4x32_10(c0, c1, c2, c3, k0, k1, out = new Uint32Array(4)) {
  c0 >>>= 0;
  c1 >>>= 0;
  c2 >>>= 0;
  c3 >>>= 0;
  k0 >>>= 0;
  k1 >>>= 0;
  for (let round = 0; round < 10; ++round) {
    const hi0 = mulhi32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

// Uniform in (0, 1]: the top 24 bits centred in their bin, summed in float32 as the C code
// does (k + 0.5 rounds to even for k >= 2^23, so the top bin gives exactly 1).
function unit(w) {
  return f32((w >>> 8) + 0.5) * INV_2_24;
}

const words = new Uint32Array(4);

/**
 * The `latent` standard normals gazehead_rt draws for (seed, agent, episode, frame), written
 * to out[offset .. offset + latent). `out` is a Float32Array (or a new one of length latent).
 */
export function agentNormals(seed, agent, episode, frame, latent, out, offset = 0) {
  if (out === undefined) out = new Float32Array(latent);
  for (let b = 0; 4 * b < latent; ++b) {
    philox4x32_10(frame, b, episode, 0, seed, agent, words);
    for (let p = 0; p < 2; ++p) {
      const u0 = unit(words[2 * p]);
      const u1 = unit(words[2 * p + 1]);
      const rad = f32(Math.sqrt(f32(-2 * f32(Math.log(u0)))));
      const theta = f32(TWO_PI_F * u1);
      const j = 4 * b + 2 * p;
      if (j < latent) out[offset + j] = f32(rad * f32(Math.cos(theta)));
      if (j + 1 < latent) out[offset + j + 1] = f32(rad * f32(Math.sin(theta)));
    }
  }
  return out;
}

/** The episode and frame counters of the runtime's default-style draw (docs/design.md §4). */
export const STYLE_DRAW_COUNTER = 0xffffffff;

/**
 * The runtime's default style of each agent: style_mean + style_std * n (float32), n the
 * first two lanes of the draw at episode = frame = 0xFFFFFFFF (a lane does not depend on the
 * latent size). Returns a Float32Array (agents.length * 2).
 */
export function populationStyle(seed, agents, styleMean, styleStd) {
  const n = new Float32Array(2);
  const out = new Float32Array(agents.length * 2);
  agents.forEach((a, i) => {
    agentNormals(seed, a, STYLE_DRAW_COUNTER, STYLE_DRAW_COUNTER, 2, n);
    for (let k = 0; k < 2; ++k) out[2 * i + k] = f32(f32(styleMean[k]) + f32(f32(styleStd[k]) * n[k]));
  });
  return out;
}
