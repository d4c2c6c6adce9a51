// A TF.js graph model (model.json topology + weights) run with tfjs-core ops, without
// tfjs-converter: the converter's graph executor, op mapper and op executors were the largest part
// of the first visit's code, and a shipped text classifier uses a dozen ops. Each op below follows
// the converter's own executor (tfjs-converter/src/operations/executors/*.ts) and op list (the
// attribute names, their defaults, which inputs are read as numbers), so the same model gives the
// same numbers; tests/test_graph_executor.py runs both on the same model.json. The ops dispatch
// to whichever backend is current (cpu, wasm, webgl). A model with an op missing here is refused
// when it is built (first_kernels.js) and when it is loaded (GraphModel below), naming the op.
import {
  add,
  cast,
  concat,
  conv2d,
  expandDims,
  fused,
  gather,
  io,
  less,
  matMul,
  max,
  mean,
  mul,
  relu,
  reshape,
  sigmoid,
  softmax,
  squeeze,
  sub,
  tanh,
  tidy,
  transpose,
  where,
} from "@tensorflow/tfjs-core";

const DTYPES = { DT_FLOAT: "float32", DT_INT32: "int32", DT_BOOL: "bool", DT_INT64: "int32" };

/** Attribute `name` of `node` (a model.json NodeDef), decoded as the converter's op mapper does. */
function attr(node, names, kind, fallback) {
  const attrs = node.attr || {};
  const found = names.split("|").find((n) => n in attrs);
  if (!found) return fallback;
  const a = attrs[found];
  switch (kind) {
    case "number":
      return Number(a.i ?? a.f ?? fallback);
    case "bool":
      return Boolean(a.b ?? fallback);
    case "string": // base64 bytes, lower-cased (getStringParam without keepCase)
      return a.s == null ? fallback : atob(a.s).toLowerCase();
    case "number[]":
      return ((a.list && (a.list.i || a.list.f)) || []).map(Number);
    case "string[]":
      return ((a.list && a.list.s) || []).map((s) => atob(s).toLowerCase());
    default:
      throw new TypeError(`attribute kind ${kind}`);
  }
}

/** An input read as plain numbers (the converter's 'number' / 'number[]' params). */
const numbers = (t) => Array.from(t.dataSync());
const number = (t) => t.dataSync()[0];

/** The fused conv / matmul extras: [bias, prelu alpha], activation and leaky-relu alpha. */
function fusedArgs(node, args, what) {
  const [extraOp, activation] = attr(node, "fused_ops", "string[]", []);
  const numArgs = attr(node, "num_args", "number", 0);
  const isBiasAdd = extraOp === "biasadd";
  const isPrelu = activation === "prelu";
  if (extraOp === "fusedbatchnorm") throw new Error(`${what} with FusedBatchNorm is not supported`);
  if (isBiasAdd && numArgs !== (isPrelu ? 2 : 1)) throw new Error(`${what} with BiasAdd: expected ${isPrelu ? 2 : 1} extra arguments`);
  let [bias, prelu] = args;
  if (!isBiasAdd) [bias, prelu] = [undefined, bias];
  const leakyreluAlpha = attr(node, "leakyrelu_alpha", "number", 0.2);
  return { bias, activation, preluActivationWeights: prelu, leakyreluAlpha };
}

function padding(node) {
  const pad = attr(node, "padding", "string");
  if (pad !== "explicit") return pad;
  const p = attr(node, "explicit_paddings", "number[]", []);
  return [0, 1, 2, 3].map((i) => [p[2 * i], p[2 * i + 1]]);
}

/** Strides, padding, data format and dilations of a (fused) Conv2D, as the converter passes them. */
function convAttrs(node) {
  const stride = attr(node, "strides", "number[]", []);
  const dilations = attr(node, "dilations", "number[]", [1, 1, 1, 1]);
  return {
    strides: [stride[1], stride[2]],
    pad: padding(node),
    dataFormat: attr(node, "data_format", "string", "nhwc").toUpperCase(),
    dilations: [dilations[1], dilations[2]],
  };
}

/** op name -> (node, inputs) => output tensor, the converter's semantics for each. */
export const OPS = {
  Identity: (_, [x]) => x,
  AddV2: (_, [a, b]) => add(a, b),
  Add: (_, [a, b]) => add(a, b),
  BiasAdd: (_, [a, b]) => add(a, b),
  Sub: (_, [a, b]) => sub(a, b),
  Mul: (_, [a, b]) => mul(a, b),
  Less: (_, [a, b]) => less(a, b),
  Select: (_, [c, a, b]) => where(c, a, b),
  SelectV2: (_, [c, a, b]) => where(c, a, b),
  Relu: (_, [x]) => relu(x),
  Sigmoid: (_, [x]) => sigmoid(x),
  Tanh: (_, [x]) => tanh(x),
  Softmax: (_, [x]) => softmax(x),
  Cast: (node, [x]) => cast(x, DTYPES[node.attr.DstT.type] || "float32"),
  GatherV2: (node, [x, indices, axis]) =>
    gather(x, indices.dtype === "int32" ? indices : cast(indices, "int32"), axis ? number(axis) : 0, attr(node, "batch_dims", "number", 0)),
  ExpandDims: (_, [x, axis]) => expandDims(x, number(axis)),
  Squeeze: (node, [x]) => squeeze(x, attr(node, "axis|squeeze_dims", "number[]", [])),
  Reshape: (_, [x, shape]) => reshape(x, numbers(shape)),
  Transpose: (_, [x, perm]) => transpose(x, numbers(perm)),
  ConcatV2: (_, inputs) => concat(inputs.slice(0, -1), number(inputs[inputs.length - 1])),
  Max: (node, [x, axis]) => max(x, numbers(axis), attr(node, "keep_dims", "bool", false)),
  Mean: (node, [x, axis]) => mean(x, numbers(axis), attr(node, "keep_dims", "bool", false)),
  MatMul: (node, [a, b]) => matMul(a, b, attr(node, "transpose_a", "bool", false), attr(node, "transpose_b", "bool", false)),
  _FusedMatMul: (node, [a, b, ...args]) =>
    fused.matMul({
      a,
      b,
      transposeA: attr(node, "transpose_a", "bool", false),
      transposeB: attr(node, "transpose_b", "bool", false),
      ...fusedArgs(node, args, "Fused MatMul"),
    }),
  Conv2D: (node, [x, filter]) => {
    const c = convAttrs(node);
    return conv2d(x, filter, c.strides, c.pad, c.dataFormat, c.dilations);
  },
  _FusedConv2D: (node, [x, filter, ...args]) => fused.conv2d({ x, filter, ...convAttrs(node), ...fusedArgs(node, args, "FusedConv2d") }),
};
// Placeholder (a fed input) and Const (a weight) are not computed: see GraphModel.
const GIVEN = new Set(["Placeholder", "Const"]);

/** The ops of a model.json (its nodes and library functions') this executor cannot run. */
export function missingOps(modelJson) {
  const graph = modelJson.modelTopology || {};
  const nodes = [...(graph.node || []), ...((graph.library && graph.library.function) || []).flatMap((f) => f.nodeDef || [])];
  return [...new Set(nodes.map((n) => n.op))].filter((op) => !GIVEN.has(op) && !(op in OPS)).sort();
}

/** "name:1" -> ["name", 1]; "^name" (a control input) -> null. */
function parseInput(name) {
  if (name.startsWith("^")) return null;
  const m = /^(.*):(\d+)$/.exec(name);
  return m ? [m[1], Number(m[2])] : [name, 0];
}

export class GraphModel {
  /** `artifacts`: {modelTopology, weightSpecs, weightData} (tf.io.ModelArtifacts of a graph model). */
  constructor(artifacts, signature) {
    const graph = artifacts.modelTopology;
    const missing = missingOps(artifacts);
    if (missing.length) throw new TypeError(`op ${missing.join(", ")} is not in the app's graph executor (src/graph.js)`);
    if (graph.library && graph.library.function && graph.library.function.length) {
      throw new TypeError("a graph with functions (control flow) is not in the app's graph executor");
    }
    this.nodes = new Map(graph.node.map((n) => [n.name, n]));
    this.weights = io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
    const sig = signature || artifacts.signature || {};
    const names = (entries, fallback) => (entries ? Object.values(entries).map((e) => e.name) : fallback);
    const placeholders = graph.node.filter((n) => n.op === "Placeholder").map((n) => n.name);
    this.inputs = names(sig.inputs, placeholders).map((n) => parseInput(n)[0]);
    this.outputs = names(sig.outputs, null);
    if (!this.outputs) throw new Error("model.json has no signature outputs");
    this.order = this._order(this.outputs.map((n) => parseInput(n)[0]));
  }

  /** The nodes the outputs need, each after its inputs (depth-first, as a topological sort). */
  _order(targets) {
    const order = [];
    const state = new Map();
    const visit = (name) => {
      if (state.get(name) === "done") return;
      if (state.get(name) === "open") throw new Error(`model.json: a cycle through ${name}`);
      const node = this.nodes.get(name);
      if (!node) throw new Error(`model.json: no node ${name}`);
      state.set(name, "open");
      for (const input of node.input || []) {
        const parsed = parseInput(input);
        if (parsed) visit(parsed[0]);
      }
      state.set(name, "done");
      order.push(node);
    };
    targets.forEach(visit);
    return order;
  }

  _run(feeds) {
    const values = new Map();
    for (const node of this.order) {
      if (node.op === "Const") {
        const w = this.weights[node.name];
        if (!w) throw new Error(`model.json: no weight for Const ${node.name}`);
        values.set(node.name, [w]);
      } else if (node.op === "Placeholder") {
        const x = feeds.get(node.name);
        if (!x) throw new Error(`no input fed for ${node.name}`);
        const want = DTYPES[node.attr && node.attr.dtype && node.attr.dtype.type];
        if (want && x.dtype !== want) throw new Error(`input ${node.name} must be ${want}, got ${x.dtype}`);
        values.set(node.name, [x]);
      } else {
        const inputs = (node.input || [])
          .map(parseInput)
          .filter(Boolean)
          .map(([name, index]) => values.get(name)[index]);
        const out = OPS[node.op](node, inputs);
        values.set(node.name, Array.isArray(out) ? out : [out]);
      }
    }
    return this.outputs.map((name) => {
      const [node, index] = parseInput(name);
      return values.get(node)[index];
    });
  }

  /** Outputs for `x` (one input tensor, an array, or a {name: tensor} map); one tensor for one output. */
  predict(x) {
    const given = x instanceof Array ? x : x && x.dtype ? [x] : this.inputs.map((n) => x[n]);
    const feeds = new Map(this.inputs.map((name, i) => [name, given[i]]));
    const outs = tidy(() => {
      const kept = new Set(Object.values(this.weights).concat(given));
      // An output that is a weight or an input itself is cloned, so disposing it frees nothing shared.
      return this._run(feeds).map((t) => (kept.has(t) ? t.clone() : t));
    });
    return outs.length === 1 ? outs[0] : outs;
  }

  dispose() {
    Object.values(this.weights).forEach((t) => t.dispose());
    this.weights = {};
  }
}
