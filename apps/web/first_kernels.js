// The TF.js kernels the shipped model needs on the cpu backend, so the first visit downloads those
// and no other (the full cpu backend registers every kernel TF.js has). Two steps, as TF.js's own
// custom-bundle tooling does: the model.json's graph ops (nodes and library functions) are checked
// against the app's graph executor (src/graph.js: an op missing there stops the build, naming it),
// and the kernel names come from tf.profile() of a load + prediction with that executor on the
// full cpu backend in Node.
// vite.config.js calls this at build time; `harness app build` names the model with HARNESS_MODEL_JSON.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

/** Graph ops of a TF.js graph model.json: its nodes and its library functions' nodes. */
export function graphOps(modelJson) {
  const graph = modelJson.modelTopology || {};
  const ops = new Set((graph.node || []).map((n) => n.op));
  for (const fn of (graph.library && graph.library.function) || []) {
    for (const n of fn.nodeDef || []) ops.add(n.op);
  }
  return [...ops].sort();
}

function weightData(modelPath, modelJson) {
  const parts = modelJson.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dirname(modelPath), p))));
  const all = Buffer.concat(parts);
  return all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
}

function inputShape(modelJson) {
  const inputs = Object.values((modelJson.signature && modelJson.signature.inputs) || {});
  const dims = inputs.length ? inputs[0].tensorShape.dim : null;
  if (!dims) throw new Error("model.json has no signature input shape");
  return dims.map((d) => (Number(d.size) > 0 ? Number(d.size) : 1));
}

/** {ops, kernels} the model at `modelPath` needs; throws naming an op TF.js cannot run. */
export async function firstKernels(modelPath) {
  const modelJson = JSON.parse(readFileSync(modelPath, "utf-8"));
  const ops = graphOps(modelJson);
  const { GraphModel, missingOps } = await import("./src/graph.js");
  const missing = missingOps(modelJson);
  if (missing.length) throw new Error(`${modelPath}: graph ops the app's graph executor (src/graph.js) lacks: ${missing.join(", ")}`);
  const tf = require("@tensorflow/tfjs-core");
  require("@tensorflow/tfjs-backend-cpu");
  await tf.setBackend("cpu");
  const artifacts = {
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
    weightData: weightData(modelPath, modelJson),
  };
  const shape = inputShape(modelJson);
  const profile = await tf.profile(async () => {
    const model = new GraphModel({ ...artifacts, signature: modelJson.signature });
    const ids = tf.tensor(Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i % 3), shape, "int32");
    let y = model.predict(ids);
    if (Array.isArray(y)) y = y[0];
    await y.data();
    tf.dispose([ids, y]);
    model.dispose();
  });
  const kernels = [...new Set(profile.kernelNames)].filter((k) => !k.endsWith("__op")).sort();
  return { ops, kernels };
}

/** The cpu kernel module of each kernel name; throws naming a kernel the cpu backend lacks. */
export function cpuKernelFiles(kernels) {
  const dir = join(dirname(require.resolve("@tensorflow/tfjs-backend-cpu/package.json")), "dist", "kernels");
  return kernels.map((k) => {
    const file = join(dir, `${k}.js`);
    try {
      readFileSync(file);
    } catch {
      throw new Error(`kernel ${k}: no cpu kernel module at ${file}`);
    }
    return { kernel: k, module: `@tensorflow/tfjs-backend-cpu/dist/kernels/${k}.js` };
  });
}
