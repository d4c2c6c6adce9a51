// One forward pass of model/ on repro.json's ids, with the backend and execution mode the
// harness used; the score (the positive class's probability) is POSTed to the serving origin.
"use strict";

(async () => {
  const post = (body) => fetch("/result", { method: "POST", body: JSON.stringify(body) });
  try {
    const repro = await (await fetch("repro.json")).json();
    if (repro.backend === "wasm") tf.wasm.setWasmPaths(new URL("lib/", location.href).href);
    if (!(await tf.setBackend(repro.backend))) throw new Error(`backend ${repro.backend} did not initialise`);
    await tf.ready();
    const model = await tf.loadGraphModel("model/model.json");
    const x = tf.tensor2d(Int32Array.from(repro.ids), [1, repro.ids.length], "int32");
    let y = repro.mode === "executeAsync" ? await model.executeAsync(x) : model.execute(x);
    if (Array.isArray(y)) y = y[0];
    const row = Array.from(await y.data());
    const score = repro.positive_index === null ? row[0] : row[repro.positive_index];
    const facts = { backend: tf.getBackend(), tfjs: tf.version.tfjs };
    if (repro.backend === "wasm") {
      const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
      const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
      facts.wasm_flavour = threads && simd ? "threads+simd" : simd ? "simd" : "plain";
    }
    console.log("score", score, facts);
    await post({ score, row, ...facts });
  } catch (e) {
    await post({ error: String((e && e.stack) || e) });
  }
})();
