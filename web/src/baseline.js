// The head controller games use today, for comparison: the head turns by a fixed share of a
// low-passed gaze, head = k * lowpass(gaze), roll 0; the eyes make up the rest.

/** Eye-in-head (pitch, yaw) of gaze (pitch, yaw) seen from head (pitch, yaw, roll), radians:
 * d_eye = R^T d_gaze with R = Rz(yaw) Ry(-pitch) Rx(roll) (docs/integration.md §1). */
export function eyeFromGazeHead(gazePitch, gazeYaw, headPitch, headYaw, headRoll) {
  const cp = Math.cos(gazePitch);
  let x = cp * Math.cos(gazeYaw);
  let y = cp * Math.sin(gazeYaw);
  let z = Math.sin(gazePitch);
  // Rz(-yaw)
  let c = Math.cos(headYaw);
  let s = Math.sin(headYaw);
  [x, y] = [c * x + s * y, -s * x + c * y];
  // Ry(pitch): undo Ry(-pitch)
  c = Math.cos(headPitch);
  s = Math.sin(headPitch);
  [x, z] = [c * x + s * z, -s * x + c * z];
  // Rx(-roll)
  c = Math.cos(headRoll);
  s = Math.sin(headRoll);
  [y, z] = [c * y + s * z, -s * y + c * z];
  return [Math.atan2(z, Math.hypot(x, y)), Math.atan2(y, x)];
}

export class ProportionalBaseline {
  /**
   * @param numAgents N
   * @param gain k, the head's share of the gaze angle
   * @param tauS low-pass time constant in seconds
   */
  constructor({ numAgents = 1, gain = 0.6, tauS = 0.2 } = {}) {
    this.numAgents = numAgents;
    this.gain = gain;
    this.tauS = tauS;
    this._lp = new Float64Array(numAgents * 2);
    this._started = false;
  }

  reset() {
    this._lp.fill(0);
    this._started = false;
  }

  /** gaze N*2 (pitch, yaw) rad, dtS seconds -> {head N*3, eye N*2}. */
  update(gaze, dtS) {
    const n = this.numAgents;
    const alpha = this._started ? 1 - Math.exp(-Math.max(dtS, 0) / this.tauS) : 1;
    this._started = true;
    const head = new Float32Array(n * 3);
    const eye = new Float32Array(n * 2);
    for (let a = 0; a < n; ++a) {
      for (let k = 0; k < 2; ++k) this._lp[2 * a + k] += alpha * (gaze[2 * a + k] - this._lp[2 * a + k]);
      head[3 * a] = this.gain * this._lp[2 * a];
      head[3 * a + 1] = this.gain * this._lp[2 * a + 1];
      const [ep, ey] = eyeFromGazeHead(gaze[2 * a], gaze[2 * a + 1], head[3 * a], head[3 * a + 1], 0);
      eye[2 * a] = ep;
      eye[2 * a + 1] = ey;
    }
    return { head, eye };
  }
}
