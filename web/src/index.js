export { GazeHead, GazeHeadModel, loadModel, STYLE_NAMES } from "./gazehead.js";
export { agentNormals, philox4x32_10, populationStyle, STYLE_DRAW_COUNTER } from "./philox.js";
export { readOnnxMetadata } from "./onnx_meta.js";
export { eyeFromGazeHead, ProportionalBaseline } from "./baseline.js";
