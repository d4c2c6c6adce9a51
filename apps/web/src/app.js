// The app's behaviour: load the model once, score as the user types (debounced), score at once on
// Ctrl+Enter or the button, switch backends, and after the first prediction settle on a backend
// (cpu unless it is too slow here, then wasm). State is one plain object; every change goes
// through `set`, which re-renders what depends on it.
import { BACKENDS, DEFAULT_BACKEND, Engine, FIRST_BACKEND, importBackend } from "./engine.js";
import { errorBox, factsText, frame, resultContent, sizeText } from "./view.js";

const DEBOUNCE_MS = 150;
// The app scores as the user types: a prediction longer than one frame (60 Hz) on cpu shows as
// lag, and then wasm (~4x faster here, but ~170 kB gzip more of binary and code) is worth
// fetching. Within a frame the app stays on cpu and downloads nothing more.
export const FRAME_MS = 16;
// Judged on the median of TIMED_RUNS predictions after WARMUP_RUNS: the first few run before the
// JIT has compiled the kernels (up to 10x slower, measured), and a median is not moved by one
// pause (a GC, another process taking the core), while a device that is slow throughout, or in
// bursts as DevTools' CPU throttling is, is slow in most runs.
const WARMUP_RUNS = 3;
const TIMED_RUNS = 5;

/** The median cpu prediction time after warm-up, in milliseconds. */
async function steadyPredictMs(engine) {
  for (let i = 0; i < WARMUP_RUNS; i++) await engine.predictMs();
  const times = [];
  for (let i = 0; i < TIMED_RUNS; i++) times.push(await engine.predictMs());
  return times.sort((a, b) => a - b)[Math.floor(TIMED_RUNS / 2)];
}

function askedBackend() {
  const asked = new URLSearchParams(window.location.search).get("backend");
  return BACKENDS.includes(asked) ? asked : null;
}

function initialBackend() {
  return askedBackend() ?? FIRST_BACKEND;
}

function mark(name) {
  if (performance.getEntriesByName(name, "mark").length === 0) performance.mark(name);
}

/** Mounts the app into `root` and starts loading the model. */
export function startApp(root) {
  importBackend(initialBackend()).catch(() => {}); // start fetching its code before anything else

  const state = {
    phase: "loading", // loading | ready | switching | failed
    loadError: "",
    notice: "",
    backend: initialBackend(),
    facts: null,
    modelInfo: null,
    isEmpty: true,
    pending: false,
    result: null,
    settled: false, // the app has chosen the backend it stays on (data-settled)
    cpuMs: null, // the warm cpu prediction time it chose by (data-cpu-ms)
  };
  let engine = null;
  let revision = 0; // bumped on every edit; a result is current when its revision matches
  let timer = 0;
  let settleStarted = false;
  let userChose = false; // a backend picked in the page is never overridden by the move below

  const ui = frame(root, BACKENDS, {
    onInput: (event) => {
      revision += 1;
      event.currentTarget.dataset.revision = String(revision);
      window.clearTimeout(timer);
      const empty = event.currentTarget.value.trim() === "";
      if (empty) {
        set({ isEmpty: true, result: null, pending: false });
        return;
      }
      set({ isEmpty: false, pending: true });
      timer = window.setTimeout(() => scoreNow("typing"), DEBOUNCE_MS);
    },
    onKeyDown: (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        scoreNow("keyboard");
      }
    },
    onButton: () => scoreNow("button"),
    onBackend: (event) => switchBackend(event.target.value),
  });

  function status() {
    if (state.phase === "failed") return "error";
    if (state.isEmpty) return "empty";
    const current = state.result && state.result.revision === revision;
    if (state.phase !== "ready" || state.pending || !current) return "pending";
    return "scored";
  }

  function render() {
    const ready = state.phase === "ready";
    ui.button.disabled = !ready;
    ui.select.value = state.backend;
    ui.select.dataset.settled = state.settled ? "true" : "false";
    if (state.cpuMs !== null) ui.select.dataset.cpuMs = state.cpuMs.toFixed(2);
    ui.select.disabled = ["loading", "switching", "failed"].includes(state.phase);
    if (state.phase === "failed") {
      ui.slot.replaceChildren(errorBox("The sentiment model could not be loaded.", state.loadError));
    } else {
      const s = status();
      ui.result.className = `result ${s}`;
      ui.result.dataset.status = s;
      ui.result.dataset.revision = state.result ? String(state.result.revision) : "";
      ui.result.dataset.trigger = state.result ? state.result.trigger : "";
      ui.result.replaceChildren(...resultContent(state, s));
    }
    ui.notice.hidden = !state.notice;
    ui.notice.textContent = state.notice;
    ui.inUse.textContent = factsText(state.facts, state.phase);
    ui.size.textContent = sizeText(state.modelInfo);
  }

  function set(patch) {
    Object.assign(state, patch);
    render();
    // The first score on screen: the app's time to first prediction, from navigation start.
    if (state.result) mark("review-app:first-score");
    if (state.result || state.notice) settleOnce();
  }

  // Once the first prediction is on screen (or the model is ready with nothing to score), and
  // unless a backend was asked for or picked: time the cpu's steady prediction, and move to wasm
  // (fetching its code and binary now) only if it takes more than a frame. If wasm cannot start,
  // the app stays where the first prediction ran.
  function settleOnce() {
    if (settleStarted) return;
    settleStarted = true;
    window.setTimeout(async () => {
      if (engine && !askedBackend() && !userChose && engine.backend === FIRST_BACKEND) {
        try {
          const ms = await steadyPredictMs(engine);
          set({ cpuMs: ms });
          if (ms > FRAME_MS && !userChose) {
            const moved = await engine.use(DEFAULT_BACKEND);
            if (!userChose) set({ backend: DEFAULT_BACKEND, facts: moved });
          }
        } catch {
          // still on the first backend, which works
        }
      }
      set({ settled: true });
    }, 0);
  }

  async function scoreNow(trigger) {
    window.clearTimeout(timer);
    if (!engine || !engine.model) return;
    const asked = revision;
    const text = ui.review.value;
    if (text.trim() === "") {
      set({ result: null, pending: false });
      return;
    }
    try {
      const r = await engine.score(text);
      if (asked !== revision) return; // the text changed meanwhile; a newer call follows
      set({ result: { ...r, revision: asked, trigger, chars: text.length }, pending: false, notice: "" });
    } catch (e) {
      if (asked !== revision) return;
      set({ pending: false, notice: `This review could not be scored: ${e.message}` });
    }
  }

  async function switchBackend(name) {
    if (!engine) return;
    userChose = true;
    const previous = state.backend;
    set({ backend: name, phase: "switching" });
    try {
      const facts = await engine.use(name);
      set({ facts, notice: "", phase: "ready" });
      scoreNow("backend");
    } catch (e) {
      set({ backend: previous, notice: `Could not switch to ${name}: ${e.message}. Still using ${previous}.`, phase: "ready" });
    }
  }

  render();
  (async () => {
    try {
      mark("review-app:start");
      const loaded = await Engine.load(initialBackend());
      engine = loaded.engine;
      // engine.backend: the default when the one asked for was refused here (engine.js)
      set({
        modelInfo: { bytes: engine.downloadBytes, ...engine.info },
        facts: loaded.facts,
        backend: engine.backend,
        phase: "ready",
      });
      mark("review-app:model-ready");
      if (ui.review.value.trim() !== "") scoreNow("load");
      else settleOnce();
    } catch (e) {
      set({ loadError: e.message || String(e), phase: "failed" });
    }
  })();
}
