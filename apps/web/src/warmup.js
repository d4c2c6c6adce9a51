// The model's graph run once on zero weights, while its real weights are still downloading: the
// first prediction of a page runs each kernel before the JIT has compiled it (webgl: before its
// shaders exist), which on the phone profile cost ~0.1 s of the first score. model.json arrives
// long before the weights (it is ~1% of the bytes), and the CPU is idle meanwhile. Best effort:
// zero-valued constants (an axis, a vocabulary size) may make some op of some graph refuse them;
// whatever ran before that is warm, and nothing is reported.
import { tidy, zeros } from "@tensorflow/tfjs-core";
import { GraphModel } from "./graph.js";

const BYTES = { float32: 4, int32: 4, bool: 1 };
const DTYPES = { DT_FLOAT: "float32", DT_INT32: "int32", DT_BOOL: "bool" };

/** Runs `modelJson` (a graph model.json) once on zero weights and zero inputs; true if it ran through. */
export function warmUp(modelJson) {
  const specs = modelJson.weightsManifest.flatMap((group) => group.weights);
  if (specs.some((w) => !(w.dtype in BYTES))) return false;
  const weightSpecs = specs.map(({ name, shape, dtype }) => ({ name, shape, dtype })); // as dequantized
  const size = weightSpecs.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * BYTES[w.dtype], 0);
  const inputs = Object.values((modelJson.signature && modelJson.signature.inputs) || {});
  let model = null;
  try {
    model = new GraphModel({ modelTopology: modelJson.modelTopology, weightSpecs, weightData: new ArrayBuffer(size), signature: modelJson.signature });
    tidy(() => {
      const x = inputs.map((i) => zeros(i.tensorShape.dim.map((d) => Math.max(1, Number(d.size))), DTYPES[i.dtype] || "float32"));
      const y = model.predict(x);
      (Array.isArray(y) ? y : [y]).forEach((t) => t.dataSync());
    });
    return true;
  } catch {
    return false;
  } finally {
    if (model) model.dispose();
  }
}
