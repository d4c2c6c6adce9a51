import { useCallback, useEffect, useRef, useState } from "react";
import { BACKENDS, DEFAULT_BACKEND, Engine, FIRST_BACKEND, importBackend, prefetchBackends } from "./engine.js";

const DEBOUNCE_MS = 150;
const BACKEND_LABELS = { wasm: "WebAssembly (wasm)", webgl: "WebGL (webgl)", cpu: "Plain JavaScript (cpu)" };

function askedBackend() {
  const asked = new URLSearchParams(window.location.search).get("backend");
  return BACKENDS.includes(asked) ? asked : null;
}

function initialBackend() {
  return askedBackend() ?? FIRST_BACKEND;
}

importBackend(initialBackend()).catch(() => {}); // start fetching its code before the first render

function formatBytes(n) {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(2)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${n} B`;
}

function mark(name) {
  if (performance.getEntriesByName(name, "mark").length === 0) performance.mark(name);
}

export default function App() {
  const engineRef = useRef(null);
  const textRef = useRef(null); // the text area is uncontrolled: a 1 MB paste never enters React state
  const revisionRef = useRef(0); // bumped on every edit; a result is current when its revision matches
  const timerRef = useRef(0);

  const [phase, setPhase] = useState("loading"); // loading | ready | switching | failed
  const [loadError, setLoadError] = useState("");
  const [notice, setNotice] = useState("");
  const [backend, setBackend] = useState(initialBackend);
  const [facts, setFacts] = useState(null);
  const [modelInfo, setModelInfo] = useState(null);
  const [isEmpty, setIsEmpty] = useState(true);
  const [pending, setPending] = useState(false);
  const [result, setResult] = useState(null);
  const [prefetched, setPrefetched] = useState(false); // every backend's code is loaded (offline switching works)
  const prefetchStarted = useRef(false);
  const userChose = useRef(false); // a backend picked in the page is never overridden by the move below

  // The other backends' code, fetched in the background once the first prediction is on screen
  // (or the model is ready with nothing to score): never racing the bytes a first visit needs.
  const prefetchOnce = useCallback(() => {
    if (prefetchStarted.current) return;
    prefetchStarted.current = true;
    // Unless a backend was asked for, the app then moves from the first backend to the default
    // one (fetching its binary now); if that fails it stays where the first prediction ran.
    window.setTimeout(async () => {
      await prefetchBackends();
      const engine = engineRef.current;
      if (engine && !askedBackend() && !userChose.current && engine.backend !== DEFAULT_BACKEND) {
        try {
          const moved = await engine.use(DEFAULT_BACKEND);
          if (!userChose.current) {
            setBackend(DEFAULT_BACKEND);
            setFacts(moved);
          }
        } catch {
          // still on the first backend, which works
        }
      }
      setPrefetched(true);
    }, 0);
  }, []);

  const scoreNow = useCallback(async (trigger) => {
    window.clearTimeout(timerRef.current);
    const engine = engineRef.current;
    const area = textRef.current;
    if (!engine || !engine.model || !area) return;
    const revision = revisionRef.current;
    const text = area.value;
    if (text.trim() === "") {
      setResult(null);
      setPending(false);
      return;
    }
    try {
      const r = await engine.score(text);
      if (revision !== revisionRef.current) return; // the text changed meanwhile; a newer call follows
      setResult({ ...r, revision, trigger, chars: text.length });
      setPending(false);
      setNotice("");
    } catch (e) {
      if (revision !== revisionRef.current) return;
      setPending(false);
      setNotice(`This review could not be scored: ${e.message}`);
    }
  }, []);

  // Load the model once, on the backend asked for.
  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        mark("review-app:start");
        const { engine, facts: started } = await Engine.load(initialBackend());
        if (cancelled) return;
        engineRef.current = engine;
        setModelInfo({ bytes: engine.downloadBytes, ...engine.info });
        setFacts(started);
        setBackend(engine.backend); // the default when the one asked for was refused here (engine.js)
        setPhase("ready");
        mark("review-app:model-ready");
        if (textRef.current && textRef.current.value.trim() !== "") scoreNow("load");
        else prefetchOnce();
      } catch (e) {
        if (cancelled) return;
        setLoadError(e.message || String(e));
        setPhase("failed");
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [scoreNow, prefetchOnce]);

  // The first score on screen: the app's time to first prediction, from navigation start.
  useEffect(() => {
    if (result) mark("review-app:first-score");
    if (result || notice) prefetchOnce();
  }, [result, notice, prefetchOnce]);

  const onInput = useCallback(
    (event) => {
      revisionRef.current += 1;
      event.currentTarget.dataset.revision = String(revisionRef.current);
      const empty = event.currentTarget.value.trim() === "";
      setIsEmpty(empty);
      window.clearTimeout(timerRef.current);
      if (empty) {
        setResult(null);
        setPending(false);
        return;
      }
      setPending(true);
      timerRef.current = window.setTimeout(() => scoreNow("typing"), DEBOUNCE_MS);
    },
    [scoreNow],
  );

  const onKeyDown = useCallback(
    (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        scoreNow("keyboard");
      }
    },
    [scoreNow],
  );

  const onBackend = useCallback(
    async (event) => {
      const name = event.target.value;
      const engine = engineRef.current;
      if (!engine) return;
      userChose.current = true;
      const previous = backend;
      setBackend(name);
      setPhase("switching");
      try {
        setFacts(await engine.use(name));
        setNotice("");
        setPhase("ready");
        scoreNow("backend");
      } catch (e) {
        setBackend(previous);
        setNotice(`Could not switch to ${name}: ${e.message}. Still using ${previous}.`);
        setPhase("ready");
      }
    },
    [backend, scoreNow],
  );

  const ready = phase === "ready";
  const current = result && result.revision === revisionRef.current && !isEmpty;
  let status;
  if (phase === "failed") status = "error";
  else if (isEmpty) status = "empty";
  else if (!ready || pending || !current) status = "pending";
  else status = "scored";

  return (
    <main className="app">
      <h1>Is this review positive?</h1>
      <p className="privacy">The review is scored on this device; it is never sent anywhere.</p>

      <div className="field">
        <label htmlFor="review">Your review</label>
        <textarea
          id="review"
          ref={textRef}
          data-testid="review"
          data-revision="0"
          rows={6}
          placeholder="e.g. a gorgeous, witty, seductive movie"
          aria-describedby="review-hint"
          spellCheck={false}
          onInput={onInput}
          onKeyDown={onKeyDown}
        />
        <p id="review-hint" className="hint">
          Scored as you type. Ctrl+Enter or the button scores at once. Only the first words matter to the model.
        </p>
      </div>

      <div className="actions">
        <button type="button" data-testid="score-button" onClick={() => scoreNow("button")} disabled={!ready}>
          Score review
        </button>
        <label htmlFor="backend">Engine</label>
        <select
          id="backend"
          data-testid="backend"
          data-prefetched={prefetched ? "true" : "false"}
          value={backend}
          onChange={onBackend}
          disabled={phase === "loading" || phase === "switching" || phase === "failed"}
        >
          {BACKENDS.map((b) => (
            <option key={b} value={b}>
              {BACKEND_LABELS[b]}
            </option>
          ))}
        </select>
      </div>

      {phase === "failed" ? (
        <div className="error" role="alert" data-testid="error">
          <strong>The sentiment model could not be loaded.</strong>
          <p>{loadError}</p>
          <p>Reviews cannot be scored right now. Reload the page to try again.</p>
        </div>
      ) : (
        <section
          className={`result ${status}`}
          aria-live="polite"
          aria-label="Result"
          data-testid="result"
          data-status={status}
          data-revision={result ? String(result.revision) : ""}
          data-trigger={result ? result.trigger : ""}
        >
          {phase === "loading" && (
            <p className="status" data-testid="status">
              Loading the model…
            </p>
          )}
          {isEmpty ? (
            <p className="prompt" data-testid="prompt">
              Type or paste a review above to see whether it reads as positive or negative.
            </p>
          ) : result ? (
            <>
              <p className="verdict">
                <span data-testid="verdict" className={result.score > (modelInfo?.threshold ?? 0.5) ? "pos" : "neg"}>
                  {result.score > (modelInfo?.threshold ?? 0.5) ? "positive" : "negative"}
                </span>
                {status === "pending" && <span className="stale"> (updating…)</span>}
              </p>
              <p>
                Probability positive: <output data-testid="score">{result.score.toFixed(6)}</output>
              </p>
              <p className="latency">
                Latency of the last prediction: <span data-testid="latency">{result.totalMs.toFixed(2)} ms</span>{" "}
                (tokenizer {result.tokenizeMs.toFixed(2)} ms, model {result.modelMs.toFixed(2)} ms, {result.backend};{" "}
                {result.chars.toLocaleString("en")} characters)
              </p>
            </>
          ) : (
            ready && <p className="status">Scoring…</p>
          )}
        </section>
      )}

      {notice && (
        <p className="notice" role="status" data-testid="notice">
          {notice}
        </p>
      )}

      <dl className="facts">
        <dt>Engine in use</dt>
        <dd data-testid="backend-in-use">
          {facts ? `${facts.backend}${facts.detail ? ` (${facts.detail})` : ""}` : phase === "failed" ? "none" : "starting…"}
        </dd>
        <dt>Model download</dt>
        <dd data-testid="model-size">
          {modelInfo
            ? `${formatBytes(modelInfo.bytes)} (${formatBytes(modelInfo.gzip_bytes || 0)} gzipped; ${modelInfo.weights || "?"} weights)`
            : "—"}
        </dd>
      </dl>
    </main>
  );
}
