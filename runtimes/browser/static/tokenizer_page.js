// The harness's side of the tokenizer runtimes page: the web app's own tokenizer module
// (`js`), the reference Python tokenizer inside Pyodide (`pyodide`), side by side, and any
// app's own tokenizer function (`js` for a bundle that names one: loadApp / app).
//
// Texts arrive as one JSON text per call, produced by Python with ensure_ascii: it is pure
// ASCII, so no bridge (Playwright, JS -> Python string conversion) can alter a lone
// surrogate, and both runtimes decode the very same escapes (JSON.parse here, json.loads
// inside Pyodide). Times are measured inside the page, around the tokenizer only.
"use strict";

window.tokenizerHarness = (() => {
  const jsTokenizers = new Map(); // spec key -> Tokenizer of the web app's module
  const appTokenizers = new Map(); // app key -> {fn, assets} of an app's own tokenizer function
  let pyodide = null; // promise of the booted interpreter with harness.tokenizer imported
  let py = null; // Python helpers (load_spec, encode_json, bench), facts and boot times

  // Runs inside Pyodide. harness/core/tokenizer/reference.py is written to the file system unchanged.
  const PY_HELPERS = `
import hashlib, json, sys, time
sys.path.insert(0, "/harness_py")
from harness.core import tokenizer as _reference

_tokenizers = {}

def load_spec(key, spec_text):
    _tokenizers[key] = _reference.Tokenizer(json.loads(spec_text))
    return _tokenizers[key].vocab_size

def encode_json(key, texts_json):
    texts = json.loads(texts_json)
    t = time.perf_counter()
    ids = _tokenizers[key].encode_batch(texts)
    ms = (time.perf_counter() - t) * 1000
    return json.dumps({"ids": ids, "ms": ms}, separators=(",", ":"))

def bench(key, texts_json, min_ms):
    texts = json.loads(texts_json)
    tok = _tokenizers[key]
    tok.encode_batch(texts[:200])
    out = []
    while texts and sum(out) < min_ms:
        t = time.perf_counter()
        tok.encode_batch(texts)
        out.append((time.perf_counter() - t) * 1000)
    return json.dumps(out)

def facts():
    with open(_reference.__file__, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return json.dumps({"python": sys.version.split()[0], "tokenizer_py": _reference.__file__,
                       "tokenizer_py_sha256": digest})
`;

  async function fetchOk(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response;
  }

  async function loadJs(key, specUrl, moduleUrl) {
    const t0 = performance.now();
    const [module, spec] = await Promise.all([import(moduleUrl), fetchOk(specUrl).then((r) => r.json())]);
    const t1 = performance.now();
    const tokenizer = new module.Tokenizer(spec);
    const t2 = performance.now();
    jsTokenizers.set(key, tokenizer);
    return { fetch_ms: t1 - t0, build_ms: t2 - t1, vocab_size: tokenizer.vocabSize };
  }

  function jsTokenizer(key) {
    const tokenizer = jsTokenizers.get(key);
    if (!tokenizer) throw new Error(`js tokenizer for spec ${key} is not loaded`);
    return tokenizer;
  }

  function js(key, textsJson) {
    const tokenizer = jsTokenizer(key);
    const texts = JSON.parse(textsJson);
    const t0 = performance.now();
    const ids = tokenizer.encodeBatch(texts);
    return { ids, ms: performance.now() - t0 };
  }

  // An app's own tokenizer: `fn(text, ...assets)` from its ES module, the assets being the JSON
  // files the app loads beside it. Plain standard JavaScript only, so any engine runs it.
  async function loadApp(key, moduleUrl, functionName, assetUrls) {
    const t0 = performance.now();
    const [module, ...assets] = await Promise.all([
      import(moduleUrl),
      ...assetUrls.map((url) => fetchOk(url).then((r) => r.json())),
    ]);
    const fn = module[functionName];
    if (typeof fn !== "function") {
      const exported = Object.keys(module).join(", ") || "nothing";
      throw new Error(`the module exports no function ${functionName} (it exports ${exported})`);
    }
    appTokenizers.set(key, { fn, assets });
    return { load_ms: performance.now() - t0, exports: Object.keys(module) };
  }

  // What was thrown, in words; describing it may throw too (a toString that throws, a getter),
  // and that must cost only this text its result, never the batch.
  function describeThrown(e) {
    try {
      if (e instanceof Error || (e && typeof e === "object" && "message" in e)) {
        return `${String(e.name || "Error")}: ${String(e.message)}`;
      }
      return `thrown ${typeof e}: ${String(e)}`;
    } catch {
      return `thrown ${typeof e} that cannot be described (its own description throws)`;
    }
  }

  // Ids as an array of integers, or why not ({malformed}); kept per text.
  function checkIds(value) {
    const ids = ArrayBuffer.isView(value) ? Array.from(value) : value;
    if (!Array.isArray(ids)) {
      const what = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
      return { malformed: `returned ${what}, not an array of integers` };
    }
    for (let i = 0; i < ids.length; i++) {
      if (!Number.isSafeInteger(ids[i])) {
        return { malformed: `element ${i} is ${JSON.stringify(ids[i]) ?? String(ids[i])}, not an integer` };
      }
    }
    return ids;
  }

  // Per text: ids, {error} (what it threw) or {malformed}; one text's failure never stops the rest.
  // Returned as a JSON text.
  async function app(key, textsJson) {
    const entry = appTokenizers.get(key);
    if (!entry) throw new Error(`app tokenizer ${key} is not loaded`);
    const texts = JSON.parse(textsJson);
    const rows = new Array(texts.length);
    // What the app logs as an error is its own business, not a failure of the page: kept aside.
    const logged = [];
    const consoleError = console.error;
    console.error = (...args) => logged.push(args.map((a) => { try { return String(a); } catch { return "?"; } }).join(" "));
    const t0 = performance.now();
    try {
      for (let i = 0; i < texts.length; i++) {
        try {
          let value = entry.fn(texts[i], ...entry.assets);
          if (value && typeof value.then === "function") value = await value;
          rows[i] = checkIds(value);
        } catch (e) {
          rows[i] = { error: describeThrown(e) };
        }
      }
    } finally {
      console.error = consoleError;
    }
    // One JSON text back: a bridge validates a nested result value by value (seconds for 50k ids).
    return JSON.stringify({ rows, ms: performance.now() - t0, console_errors: logged.slice(0, 5) });
  }

  async function benchApp(key, textsJson, minMs) {
    const entry = appTokenizers.get(key);
    if (!entry) throw new Error(`app tokenizer ${key} is not loaded`);
    const texts = JSON.parse(textsJson);
    const once = () => {
      for (const text of texts) {
        try {
          entry.fn(text, ...entry.assets);
        } catch {
          // throughput counts every call, the ones that throw too
        }
      }
    };
    once();
    const out = [];
    let spent = 0;
    while (texts.length && spent < minMs) {
      const t0 = performance.now();
      once();
      out.push(performance.now() - t0);
      spent += out[out.length - 1];
    }
    return out;
  }

  async function bootPyodide(indexURL, tokenizerPyUrl) {
    const t0 = performance.now();
    const { loadPyodide } = await import(indexURL + "pyodide.mjs");
    const output = [];
    const instance = await loadPyodide({
      indexURL,
      stdout: (line) => output.push(line),
      stderr: (line) => output.push(line),
    });
    const t1 = performance.now();
    const source = new Uint8Array(await (await fetchOk(tokenizerPyUrl)).arrayBuffer());
    // reference.py under one stdlib-only module name (harness/core/tokenizer.py), empty packages above it.
    instance.FS.mkdirTree("/harness_py/harness/core");
    instance.FS.writeFile("/harness_py/harness/__init__.py", "");
    instance.FS.writeFile("/harness_py/harness/core/__init__.py", "");
    instance.FS.writeFile("/harness_py/harness/core/tokenizer.py", source);
    instance.runPython(PY_HELPERS);
    py = {
      loadSpec: instance.globals.get("load_spec"),
      encodeJson: instance.globals.get("encode_json"),
      bench: instance.globals.get("bench"),
      facts: JSON.parse(instance.globals.get("facts")()),
    };
    const t2 = performance.now();
    py.startMs = t1 - t0;
    py.tokenizerImportMs = t2 - t1;
    return instance;
  }

  async function loadPyodide(indexURL, tokenizerPyUrl, key, specUrl) {
    if (!pyodide) {
      pyodide = bootPyodide(indexURL, tokenizerPyUrl);
      pyodide.catch(() => (pyodide = null)); // a failed boot may be retried
    }
    const instance = await pyodide;
    const t0 = performance.now();
    const specText = await (await fetchOk(specUrl)).text();
    const vocabSize = py.loadSpec(key, specText);
    return {
      start_ms: py.startMs,
      tokenizer_import_ms: py.tokenizerImportMs,
      spec_ms: performance.now() - t0,
      vocab_size: vocabSize,
      pyodide: instance.version,
      ...py.facts,
    };
  }

  function pyodideEncode(key, textsJson) {
    if (!py) throw new Error("Pyodide is not loaded");
    const t0 = performance.now();
    const out = JSON.parse(py.encodeJson(key, textsJson));
    return { ids: out.ids, ms: out.ms, call_ms: performance.now() - t0 };
  }

  // Throughput inside each runtime on the same texts, after a warm-up: milliseconds of each
  // whole pass over `texts`, passes repeated until `minMs` have been spent.
  function bench(runtime, key, textsJson, minMs) {
    if (runtime === "pyodide") {
      if (!py) throw new Error("Pyodide is not loaded");
      return JSON.parse(py.bench(key, textsJson, minMs));
    }
    const tokenizer = jsTokenizer(key);
    const texts = JSON.parse(textsJson);
    tokenizer.encodeBatch(texts.slice(0, 200));
    const out = [];
    let spent = 0;
    while (texts.length && spent < minMs) {
      const t0 = performance.now();
      tokenizer.encodeBatch(texts);
      out.push(performance.now() - t0);
      spent += out[out.length - 1];
    }
    return out;
  }

  return { loadJs, js, loadApp, app, benchApp, loadPyodide, pyodide: pyodideEncode, bench, ready: true };
})();
