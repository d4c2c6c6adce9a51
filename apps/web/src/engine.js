// The scoring engine: the model files and the tokenizer spec are fetched once from the app's own
// origin (dist/model/, written by `harness app build`) and kept in memory, so switching the TF.js
// backend, or scoring after the network is gone, never fetches them again.
//
// The first backend (cpu, with only the model's kernels) is in the entry's code, not a chunk of
// its own: on the phone profile's HTTP/1.1 a browser opens six connections to the app's origin,
// and each request of the first visit beyond six waits for one of them, a round trip more
// (harness/app/first_visit.py). Every other TF.js backend is its own chunk, imported when first
// used: wasm only if cpu is too slow on this device (app.js), any other when picked in the page,
// so a visit downloads only the code it runs.
import { env, getBackend, ready, setBackend, tensor2d, tidy } from "@tensorflow/tfjs-core";
import "virtual:cpu-kernels";
import { GraphModel } from "./graph.js";
import { warmUp } from "./warmup.js";
import { Tokenizer, parseCompact } from "./tokenizer.js";

export const BACKENDS = ["wasm", "webgl", "cpu"];
// The backend a device too slow on cpu moves to, and the one a refused backend falls back to.
export const DEFAULT_BACKEND = "wasm";
// The first prediction runs on cpu: its code is small (only the model's kernels, see
// vite.config.js) and it needs no wasm binary; the app stays there unless it is too slow (app.js).
export const FIRST_BACKEND = "cpu";
const MODEL_DIR = new URL("model/", document.baseURI);

const BACKEND_MODULES = {
  wasm: () =>
    import("@tensorflow/tfjs-backend-wasm").then((wasm) => {
      // The wasm binaries ship with the app (vite.config.js copies them to dist/wasm/); this
      // must run before the backend initialises.
      wasm.setWasmPaths(new URL("wasm/", document.baseURI).href);
    }),
  webgl: () => import("@tensorflow/tfjs-backend-webgl"),
  cpu: () => Promise.resolve(), // in the entry chunk (see above)
};
const imported = new Map();

/** Imports (once) the code of backend `name`, which registers it with TF.js. */
export function importBackend(name) {
  if (!imported.has(name)) {
    const loading = BACKEND_MODULES[name]();
    loading.catch(() => imported.delete(name)); // a failed download may be retried
    imported.set(name, loading);
  }
  return imported.get(name);
}

export class LoadError extends Error {}

/** The body of `url`, its bytes counted into `counter`; a failed or refused download names `what`. */
async function download(url, counter, what) {
  let response;
  let body;
  try {
    response = await fetch(url);
    body = await response.arrayBuffer();
  } catch (e) {
    throw new LoadError(`${what} could not be downloaded (${e.message})`);
  }
  counter.bytes += body.byteLength;
  if (!response.ok) throw new LoadError(`${what} is missing (HTTP ${response.status} for ${url.pathname})`);
  return body;
}

const fetchText = async (url, counter, what) => new TextDecoder().decode(await download(url, counter, what));

async function fetchJson(url, counter, what) {
  const text = await fetchText(url, counter, what);
  try {
    return JSON.parse(text);
  } catch {
    throw new LoadError(`${what} is not valid JSON (${url.pathname})`);
  }
}

async function backendFacts() {
  const backend = getBackend();
  const facts = { backend, detail: "" };
  if (backend === "wasm") {
    const simd = await env().getAsync("WASM_HAS_SIMD_SUPPORT");
    const threads = await env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
    facts.detail = threads && simd ? "threads + SIMD" : simd ? "SIMD" : "plain";
  } else if (backend === "webgl") {
    facts.detail = `WebGL ${env().getNumber("WEBGL_VERSION")}`;
  }
  return facts;
}

/**
 * model.json and its weight shards (fetched in parallel, in manifest order) as graph model
 * artifacts; `onModelJson` is called with model.json as soon as it is read, and whether a shard is
 * still downloading (a finished download has its resource timing entry; a preloaded one may
 * have finished before this script ran).
 */
async function loadArtifacts(counter, onModelJson) {
  const url = new URL("model.json", MODEL_DIR);
  const model = await fetchJson(url, counter, "The model (model/model.json)");
  if (!model.modelTopology || !Array.isArray(model.weightsManifest)) {
    throw new LoadError("The model (model/model.json) is not a TF.js graph model");
  }
  const paths = model.weightsManifest.flatMap((group) => group.paths);
  onModelJson(model, paths.some((p) => performance.getEntriesByName(new URL(p, url).href).length === 0));
  const shards = await Promise.all(paths.map((p) => download(new URL(p, url), counter, `The model's weights (model/${p})`)));
  const weightData = new Uint8Array(shards.reduce((n, b) => n + b.byteLength, 0));
  shards.reduce((at, b) => (weightData.set(new Uint8Array(b), at), at + b.byteLength), 0);
  return {
    modelTopology: model.modelTopology,
    weightSpecs: model.weightsManifest.flatMap((group) => group.weights),
    weightData: weightData.buffer,
    signature: model.signature,
  };
}

async function startBackend(name) {
  if (!BACKENDS.includes(name)) throw new Error(`unknown backend ${name}`);
  let ok;
  try {
    await importBackend(name);
    ok = await setBackend(name);
  } catch (e) {
    throw new Error(`the ${name} backend could not start (${e.message})`, { cause: e });
  }
  if (!ok) throw new Error(`the ${name} backend is not available in this browser`);
  await ready();
  const why = refusal(name);
  if (why) throw new RefusedBackend(why);
}

/** A backend that starts here but would not compute the model's answer. */
export class RefusedBackend extends Error {}

/**
 * Why backend `name` must not run the model in this browser, or "". A GPU that cannot render to
 * float32 textures (many phones) makes TF.js's webgl backend store every tensor, the int32 token
 * ids included, as float16, which rounds each id above 2048 to another word's before the
 * embedding lookup (docs/phones.md): the app never runs webgl there.
 */
export function refusal(name) {
  if (name === "webgl" && !env().getBool("WEBGL_RENDER_FLOAT32_ENABLED")) {
    return "WebGL here has no float32 textures: token ids above 2048 would be rounded to other words";
  }
  return "";
}

function readTokenizer(compact) {
  try {
    return new Tokenizer(parseCompact(compact));
  } catch (e) {
    throw new LoadError(`The tokenizer spec is not usable (${e.message})`);
  }
}

export class Engine {
  /**
   * Downloads info.json, tokenizer.txt (the compact spec, read on arrival) and the model files while
   * `backend` starts (in parallel: the wasm binary compiles while the weights download), then builds
   * the model on it, without a warm-up prediction (the first real score is one). Resolves to the
   * ready engine and its backend facts.
   */
  static async load(backend) {
    const counter = { bytes: 0 };
    const starting = startBackend(backend);
    starting.catch(() => {}); // reported below, after the files (a missing model is the clearer message)
    // While the larger weights are still downloading, the tokenizer is read as soon as it arrives
    // (~0.1 s of a phone's CPU) and the graph runs once on zero weights (warmup.js); not when the
    // weights were downloaded before the script ran: then the real score is the warm-up.
    let warming = Promise.resolve();
    const warm = (modelJson, weightsPending) => {
      if (weightsPending) warming = starting.then(() => warmUp(modelJson)).catch(() => false);
    };
    const [info, tokenizer, artifacts] = await Promise.all([
      fetchJson(new URL("info.json", MODEL_DIR), counter, "The model description (model/info.json)"),
      fetchText(new URL("tokenizer.txt", MODEL_DIR), counter, "The tokenizer (model/tokenizer.txt)").then(readTokenizer),
      loadArtifacts(counter, warm),
    ]);
    await warming;
    const engine = new Engine(info, tokenizer, artifacts, counter.bytes);
    let refused = "";
    try {
      await starting;
    } catch (e) {
      if (!(e instanceof RefusedBackend) || backend === DEFAULT_BACKEND) throw e;
      refused = `${backend} refused: ${e.message}`; // the first visit still scores, on the default
      backend = DEFAULT_BACKEND;
    }
    const facts = await engine.use(backend, { warm: false }); // the first real score warms it
    if (refused) facts.detail = [facts.detail, refused].filter(Boolean).join("; ");
    return { engine, facts: { ...facts, refused } };
  }

  constructor(info, tokenizer, artifacts, downloadBytes) {
    this.info = info;
    this.tokenizer = tokenizer;
    this.artifacts = artifacts;
    this.downloadBytes = downloadBytes;
    this.model = null;
    this.backend = null;
    this.length = tokenizer.length;
    const sig = info.signature || {};
    this.positiveIndex = sig.kind === "softmax" ? Number(sig.positive_index || 0) : 0;
    this.threshold = Number(info.threshold ?? 0.5);
    this._queue = Promise.resolve();
  }

  /** Runs `task` after every task queued before it (the model is used by one call at a time). */
  _serial(task) {
    const run = this._queue.then(task, task);
    this._queue = run.catch(() => {});
    return run;
  }

  /**
   * Switches TF.js to `name`, rebuilds the model there from memory and warms its kernels (one
   * prediction on padding, which also proves the model runs there before the switch is kept).
   */
  use(name, { warm = true } = {}) {
    return this._serial(async () => {
      const previous = this.backend;
      try {
        await startBackend(name);
      } catch (e) {
        if (previous) await setBackend(previous);
        throw e;
      }
      let model;
      try {
        model = new GraphModel(this.artifacts);
        if (warm) await this._predict(model, this._padding());
      } catch (e) {
        if (model) model.dispose();
        if (previous) await setBackend(previous);
        throw new LoadError(`The model could not run on ${name}: ${e.message}`);
      }
      if (this.model) this.model.dispose();
      this.model = model;
      this.backend = name;
      return backendFacts();
    });
  }

  _padding() {
    return new Array(this.length).fill(this.tokenizer.padId);
  }

  /** Model time, in milliseconds, of one prediction on the current backend. */
  predictMs() {
    return this._serial(async () => {
      const t0 = performance.now();
      await this._predict(this.model, this._padding());
      return performance.now() - t0;
    });
  }

  async _predict(model, ids) {
    const y = tidy(() => {
      let out = model.predict(tensor2d(Int32Array.from(ids), [1, this.length], "int32"));
      if (Array.isArray(out)) out = out[0];
      return out;
    });
    try {
      const values = await y.data();
      return values[this.positiveIndex];
    } finally {
      y.dispose();
    }
  }

  /** Positive-class probability of `text`, with timings in milliseconds. */
  score(text) {
    return this._serial(async () => {
      const t0 = performance.now();
      const ids = this.tokenizer.encode(text);
      const t1 = performance.now();
      const score = await this._predict(this.model, ids);
      const t2 = performance.now();
      return { score, tokenizeMs: t1 - t0, modelMs: t2 - t1, totalMs: t2 - t0, backend: this.backend };
    });
  }
}
