// The harness's side of a TF.js runtime page: load one graph model on one backend, run whole
// batches in one call, and time inside the page with performance.now(). The harness says how
// the graph runs: "execute" (static graph, synchronous) or "executeAsync" (control flow or
// dynamic shapes, which execute() refuses), or "layers" (a layers model, tf.loadLayersModel and
// predict(): the format a Keras 2 app ships). Plain web APIs only: the page runs in any engine.
"use strict";

window.harness = (() => {
  let model = null;
  let length = 0;
  let mode = "execute";

  async function backendFacts(backend) {
    const facts = { backend: tf.getBackend(), tfjs: tf.version.tfjs };
    if (backend === "wasm") {
      const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
      const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
      facts.wasm_flavour = threads && simd ? "threads+simd" : simd ? "simd" : "plain";
      facts.cross_origin_isolated = self.crossOriginIsolated === true;
      facts.wasm_threads = tf.backend().getThreadsCount ? tf.backend().getThreadsCount() : null;
    }
    if (backend === "webgpu") {
      const info = tf.backend().adapterInfo || {};
      facts.adapter = [info.vendor, info.architecture].filter(Boolean).join(" ") || "unknown";
    }
    if (backend === "webgl") {
      const gl = tf.backend().gpgpu.gl;
      const dbg = gl.getExtension("WEBGL_debug_renderer_info");
      facts.webgl_version = tf.env().getNumber("WEBGL_VERSION");
      facts.renderer = dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
      facts.float32_render = tf.env().getBool("WEBGL_RENDER_FLOAT32_ENABLED");
      facts.float_precision = tf.env().getBool("WEBGL_RENDER_FLOAT32_ENABLED") ? "float32" : "float16";
      const hp = gl.getShaderPrecisionFormat(gl.FRAGMENT_SHADER, gl.HIGH_FLOAT);
      facts.fragment_highp_precision_bits = hp ? hp.precision : null;
      // webgl16: TF.js keeps every tensor, int32 ids included, in half-float textures
      facts.f16_textures = tf.env().getBool("WEBGL_FORCE_F16_TEXTURES");
      if (facts.f16_textures) facts.float_precision = "float16";
    }
    return facts;
  }

  async function load(modelUrl, requested, inputLength, executionMode = "execute") {
    // "webgl16": the webgl backend on half-float textures, as on a phone GPU that cannot render
    // to float32. The flag must be set before the backend starts: it reads it once, at start.
    const backend = requested === "webgl16" ? "webgl" : requested;
    if (requested === "webgl16") tf.env().set("WEBGL_FORCE_F16_TEXTURES", true);
    if (backend === "wasm") {
      tf.wasm.setWasmPaths("/node_modules/@tensorflow/tfjs-backend-wasm/dist/");
    }
    const t0 = performance.now();
    if (!(await tf.setBackend(backend))) {
      throw new Error(`TF.js backend ${backend} could not be initialised`);
    }
    await tf.ready();
    if (!["execute", "executeAsync", "layers"].includes(executionMode)) {
      throw new Error(`unknown execution mode ${executionMode}`);
    }
    model = executionMode === "layers" ? await tf.loadLayersModel(modelUrl) : await tf.loadGraphModel(modelUrl);
    length = inputLength;
    mode = executionMode;
    const warm = await predictChunk(new Int32Array(length), 1); // warm the kernels
    try {
      await warm.data(); // not dataSync: on webgpu it throws or silently returns zeros
    } finally {
      tf.dispose(warm);
    }
    const loadMs = performance.now() - t0;
    return { load_ms: loadMs, ...(await backendFacts(backend)) };
  }

  function firstOutput(y) {
    if (!Array.isArray(y)) return y;
    tf.dispose(y.slice(1));
    return y[0];
  }

  async function predictChunk(flat, n) {
    if (mode === "layers") {
      return tf.tidy(() => firstOutput(model.predict(tf.tensor2d(flat, [n, length], "int32"))));
    }
    if (mode === "execute") {
      return tf.tidy(() => firstOutput(model.execute(tf.tensor2d(flat, [n, length], "int32"))));
    }
    const x = tf.tensor2d(flat, [n, length], "int32");
    try {
      return firstOutput(await model.executeAsync(x)); // not in tf.tidy: it cannot await
    } finally {
      x.dispose();
    }
  }

  async function run(ids, n, chunk) {
    const all = Int32Array.from(ids);
    const out = [];
    let ms = 0;
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const flat = all.subarray(start * length, (start + m) * length);
      const t0 = performance.now();
      const y = await predictChunk(flat, m);
      const values = await y.data();
      ms += performance.now() - t0;
      const cols = y.shape.length > 1 ? y.shape[1] : 1;
      y.dispose();
      for (let i = 0; i < m; i++) out.push(Array.from(values.slice(i * cols, (i + 1) * cols)));
    }
    return { rows: out, ms };
  }

  async function latency(row, repeats, warmup) {
    const flat = Int32Array.from(row);
    const times = [];
    for (let i = 0; i < warmup + repeats; i++) {
      const t0 = performance.now();
      const y = await predictChunk(flat, 1);
      await y.data();
      const dt = performance.now() - t0;
      y.dispose();
      if (i >= warmup) times.push(dt);
    }
    return times;
  }

  // `harness compare --layers`: the values of named graph nodes ("scope/op" or "scope/op:1") for
  // one batch. execute() where the graph allows it; a graph with control flow needs executeAsync.
  async function outputsOf(x, names) {
    let outs;
    try {
      outs = model.execute(x, names);
    } catch (e) {
      if (!String(e && e.message).includes("executeAsync")) throw e;
      outs = await model.executeAsync(x, names);
    }
    return Array.isArray(outs) ? outs : [outs];
  }

  async function intermediates(ids, n, names) {
    const x = tf.tensor2d(Int32Array.from(ids), [n, length], "int32");
    const found = {};
    const take = async (name, t) => {
      found[name] = { shape: t.shape, dtype: t.dtype, values: Array.from(await t.data()) };
      t.dispose();
    };
    try {
      let outs = null;
      try {
        outs = await outputsOf(x, names);
      } catch {
        outs = null; // one node TF.js cannot fetch (inside a loop frame, say) must not hide the others
      }
      if (outs !== null) {
        for (let i = 0; i < names.length; i++) await take(names[i], outs[i]);
      } else {
        for (const name of names) {
          try {
            await take(name, (await outputsOf(x, [name]))[0]);
          } catch {
            // left out: the harness reports the node as not fetchable
          }
        }
      }
    } finally {
      x.dispose();
    }
    return found;
  }

  // `harness compare --layers --isolate`: named nodes computed with other nodes fed the given
  // float32 values (the reference's), the graph entered in the middle: the executor walks back
  // from `names` and stops at any fed node.
  async function replay(ids, n, feeds, names) {
    const inputs = { [model.inputs[0].name]: tf.tensor2d(Int32Array.from(ids), [n, length], "int32") };
    for (const [name, t] of Object.entries(feeds)) inputs[name] = tf.tensor(Float32Array.from(t.values), t.shape, "float32");
    const found = {};
    try {
      let outs;
      try {
        outs = model.execute(inputs, names);
      } catch (e) {
        if (!String(e && e.message).includes("executeAsync")) throw e;
        outs = await model.executeAsync(inputs, names);
      }
      outs = Array.isArray(outs) ? outs : [outs];
      for (let i = 0; i < names.length; i++) {
        found[names[i]] = { shape: outs[i].shape, values: Array.from(await outs[i].data()) };
        outs[i].dispose();
      }
    } finally {
      tf.dispose(Object.values(inputs));
    }
    return found;
  }

  return { load, run, latency, intermediates, replay, ready: true };
})();
