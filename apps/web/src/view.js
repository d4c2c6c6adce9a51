// The page's markup, in plain DOM: the app used to be React, whose ~60 kB gzip was a third of the
// JavaScript a phone waited for before its first prediction (issue 27). `h` builds elements; the
// static frame is built once and `render*` functions update only what state decides.

/** document.createElement with attributes (`on*` are listeners) and children (strings or nodes). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (name === "className") el.className = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

const BACKEND_LABELS = { wasm: "WebAssembly (wasm)", webgl: "WebGL (webgl)", cpu: "Plain JavaScript (cpu)" };

export function formatBytes(n) {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(2)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${n} B`;
}

/** The static frame; returns the elements the controller updates. */
export function frame(root, backends, handlers) {
  const review = h("textarea", {
    id: "review",
    "data-testid": "review",
    "data-revision": "0",
    rows: 6,
    placeholder: "e.g. a gorgeous, witty, seductive movie",
    "aria-describedby": "review-hint",
    spellcheck: "false",
    onInput: handlers.onInput,
    onKeyDown: handlers.onKeyDown,
  });
  const button = h(
    "button",
    { type: "button", "data-testid": "score-button", onClick: handlers.onButton, disabled: true },
    "Score review",
  );
  const select = h(
    "select",
    { id: "backend", "data-testid": "backend", "data-settled": "false", onChange: handlers.onBackend, disabled: true },
    backends.map((b) => h("option", { value: b }, BACKEND_LABELS[b])),
  );
  const result = h("section", {
    className: "result",
    "aria-live": "polite",
    "aria-label": "Result",
    "data-testid": "result",
  });
  const slot = h("div", { style: "display: contents" }, result); // holds the result, or the load error
  const notice = h("p", { className: "notice", role: "status", "data-testid": "notice", hidden: true });
  const inUse = h("dd", { "data-testid": "backend-in-use" }, "starting…");
  const size = h("dd", { "data-testid": "model-size" }, "—");
  const main = h(
    "main",
    { className: "app" },
    h("h1", {}, "Is this review positive?"),
    h("p", { className: "privacy" }, "The review is scored on this device; it is never sent anywhere."),
    h(
      "div",
      { className: "field" },
      h("label", { for: "review" }, "Your review"),
      review,
      h(
        "p",
        { id: "review-hint", className: "hint" },
        "Scored as you type. Ctrl+Enter or the button scores at once. Only the first words matter to the model.",
      ),
    ),
    h("div", { className: "actions" }, button, h("label", { for: "backend" }, "Engine"), select),
    slot,
    notice,
    h("dl", { className: "facts" }, h("dt", {}, "Engine in use"), inUse, h("dt", {}, "Model download"), size),
  );
  root.replaceChildren(main);
  return { review, button, select, result, slot, notice, inUse, size };
}

/** 1234567 -> "1,234,567", without toLocaleString: its first call sets up ICU's number formats,
 * measured at ~40 ms of a phone's CPU on the way to the first score. */
function thousands(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** The result section's content for `state` (status is already decided). */
export function resultContent(state, status) {
  const parts = [];
  if (state.phase === "loading") parts.push(h("p", { className: "status", "data-testid": "status" }, "Loading the model…"));
  const r = state.result;
  if (state.isEmpty) {
    parts.push(
      h(
        "p",
        { className: "prompt", "data-testid": "prompt" },
        "Type or paste a review above to see whether it reads as positive or negative.",
      ),
    );
  } else if (r) {
    const positive = r.score > (state.modelInfo?.threshold ?? 0.5);
    parts.push(
      h(
        "p",
        { className: "verdict" },
        h("span", { "data-testid": "verdict", className: positive ? "pos" : "neg" }, positive ? "positive" : "negative"),
        status === "pending" ? h("span", { className: "stale" }, " (updating…)") : null,
      ),
      h("p", {}, "Probability positive: ", h("output", { "data-testid": "score" }, r.score.toFixed(6))),
      h(
        "p",
        { className: "latency" },
        "Latency of the last prediction: ",
        h("span", { "data-testid": "latency" }, `${r.totalMs.toFixed(2)} ms`),
        ` (tokenizer ${r.tokenizeMs.toFixed(2)} ms, model ${r.modelMs.toFixed(2)} ms, ${r.backend}; ` +
          `${thousands(r.chars)} characters)`,
      ),
    );
  } else if (state.phase === "ready") {
    parts.push(h("p", { className: "status" }, "Scoring…"));
  }
  return parts;
}

/** The alert that replaces the result when the model cannot load (or the app crashed). */
export function errorBox(title, message) {
  return h(
    "div",
    { className: "error", role: "alert", "data-testid": "error" },
    h("strong", {}, title),
    h("p", {}, message),
    h("p", {}, title.startsWith("The sentiment model") ? "Reviews cannot be scored right now. Reload the page to try again." : "Reload the page to try again."),
  );
}

export function factsText(facts, phase) {
  if (facts) return `${facts.backend}${facts.detail ? ` (${facts.detail})` : ""}`;
  return phase === "failed" ? "none" : "starting…";
}

export function sizeText(info) {
  if (!info) return "—";
  return `${formatBytes(info.bytes)} (${formatBytes(info.gzip_bytes || 0)} gzipped; ${info.weights || "?"} weights)`;
}
