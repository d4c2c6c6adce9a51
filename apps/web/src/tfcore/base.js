// "@tensorflow/tfjs-core" as the app's bundle sees it (vite.config.js maps the name here), the way
// TF.js's custom-bundle tooling imports it: dist/base.js after the side effects every program
// needs (./effects.js, evaluated first), without index.js's registration of every optimizer. Of
// `tf.io` the app uses decodeWeights alone (graph.js), so `io` is that: the model-storage handlers
// (http, file download, ...) leave the bundle. Node (tests, first_kernels.js) uses the package itself.
import "./effects.js";
import { decodeWeights } from "@tensorflow/tfjs-core/dist/io/io_utils.js";

export * from "@tensorflow/tfjs-core/dist/base.js";
export const io = Object.freeze({ decodeWeights });
