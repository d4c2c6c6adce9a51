// A line-oriented bridge from Python to Firefox over WebDriver BiDi (puppeteer-core).
//
// Why a bridge: Python Playwright cannot drive a stock Firefox and Debian has no geckodriver;
// puppeteer-core speaks BiDi to Debian's firefox-esr directly. Python writes one JSON request per
// line on stdin and reads one JSON reply per line on stdout:
//   {"id": 1, "op": "launch", "executablePath": "...", "headless": true, "prefs": {}, "env": {}}
//   {"id": 2, "op": "open", "url": "...", "ready": "window.harness && window.harness.ready",
//    "fresh": false, "timeoutMs": 60000}                          -> {"id": 2, "value": {"tab": "t1"}}
//   {"id": 3, "op": "call", "tab": "t1", "fn": "(x) => x + 1", "arg": 1, "timeoutMs": 600000}
//   {"id": 4, "op": "type", "tab": "t1", "selector": "#box", "text": "a fine film"}
//   {"id": 5, "op": "closeTab", "tab": "t1"}   {"id": 6, "op": "quit"}
// Replies: {"id", "value", "errors": [page errors and console errors seen during the request]}
// or {"id", "error": "one line"}. When stdin closes (Python gone, even by SIGKILL) the browser's
// process group is killed and the bridge exits: nothing outlives its owner.
import { createInterface } from "node:readline";
import puppeteer from "puppeteer-core";

let browser = null;
const tabs = new Map(); // id -> { page, context, errors }
let nextTab = 1;
let frontTab = null; // the tab last brought to the front (newPage opens tabs in the background)

function killBrowser() {
  const proc = browser && browser.process();
  if (proc && proc.pid && proc.exitCode === null) {
    try {
      process.kill(-proc.pid, "SIGKILL"); // puppeteer spawns Firefox as a process-group leader
    } catch {
      proc.kill("SIGKILL");
    }
  }
}

function oneLine(e) {
  const text = String((e && e.message) || e).trim();
  return text.split("\n")[0] || String(e);
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const ops = {
  async launch(req) {
    const t0 = Date.now();
    browser = await puppeteer.launch({
      browser: "firefox",
      executablePath: req.executablePath,
      userDataDir: req.userDataDir, // Python's: it removes it, also after a crash of ours
      headless: req.headless !== false,
      args: req.args || [],
      extraPrefsFirefox: req.prefs || {},
      env: { ...process.env, ...(req.env || {}) },
      handleSIGINT: false, // Python owns the lifecycle; the bridge runs in its own session
      handleSIGTERM: false,
      handleSIGHUP: false,
      timeout: req.timeoutMs || 60000,
    });
    return {
      version: await browser.version(),
      pid: browser.process().pid,
      userAgent: await browser.userAgent(),
      launchMs: Date.now() - t0,
    };
  },

  async open(req) {
    const context = req.fresh ? await browser.createBrowserContext() : null;
    const page = await (context || browser).newPage();
    const tab = { page, context, errors: [], popups: [] };
    page.on("pageerror", (e) => tab.errors.push(`page error: ${oneLine(e)}`));
    page.on("popup", (p) => p && tab.popups.push(p)); // window.open: named by Python, closed here
    page.on("console", (m) => {
      if (m.type() === "error") tab.errors.push(`console error: ${m.text()}`);
    });
    const id = `t${nextTab++}`;
    tabs.set(id, tab);
    try {
      await page.goto(req.url, { waitUntil: "load", timeout: req.timeoutMs });
      await page.waitForFunction(req.ready, { timeout: req.timeoutMs, polling: 50 });
    } catch (e) {
      await closeTab(id);
      throw new Error(`could not open ${req.url}: ${tab.errors[0] || oneLine(e)}`, { cause: e });
    }
    return { tab: id };
  },

  async call(req) {
    const tab = tabs.get(req.tab);
    if (!tab) throw new Error(`no tab ${req.tab}`);
    if (frontTab !== req.tab) {
      // Only the front tab is visible: a hidden one runs requestAnimationFrame at ~1 Hz.
      await tab.page.bringToFront();
      frontTab = req.tab;
    }
    // One expression, evaluated by the browser's remote agent (not subject to the page's CSP).
    // The page stringifies its result: one BiDi string instead of a tree of typed remote values.
    const expression =
      `Promise.resolve((${req.fn})(${JSON.stringify(req.arg ?? null)}))` +
      `.then((v) => JSON.stringify(v === undefined ? null : v))`;
    return new RawJson(await withTimeout(tab.page.evaluate(expression), req.timeoutMs, "call"));
  },

  async type(req) {
    // Clear the box (as select-all + delete would), then type key by key.
    const tab = tabs.get(req.tab);
    if (!tab) throw new Error(`no tab ${req.tab}`);
    await tab.page.$eval(req.selector, (box) => {
      Object.getOwnPropertyDescriptor(Object.getPrototypeOf(box), "value").set.call(box, "");
      box.dispatchEvent(new Event("input", { bubbles: true }));
    });
    await tab.page.type(req.selector, req.text);
    return null;
  },

  async closeTab(req) {
    await closeTab(req.tab);
    return null;
  },

  async quit() {
    if (browser) {
      await withTimeout(browser.close(), 10000, "browser.close").catch(killBrowser);
    }
    return null;
  },
};

// Where the tab is now and the windows it opened since the last request (closed on the way):
// the witnesses of a navigation away and of window.open, whatever the page says.
async function tabState(tab) {
  const popups = tab.popups.splice(0).map((p) => {
    const url = p.url();
    p.close().catch(() => {});
    return url;
  });
  let where;
  try {
    where = tab.page.url();
  } catch {
    where = null;
  }
  return { where, popups };
}

async function closeTab(id) {
  const tab = tabs.get(id);
  tabs.delete(id);
  if (frontTab === id) frontTab = null;
  if (!tab) return;
  await tab.page.close().catch(() => {});
  if (tab.context) await tab.context.close().catch(() => {});
}

class RawJson {
  constructor(text) {
    this.text = text;
  }
}

function reply(obj) {
  const { value, ...rest } = obj;
  const head = JSON.stringify(rest);
  const body = value instanceof RawJson ? value.text : JSON.stringify(value ?? null);
  process.stdout.write(`${head.slice(0, -1)},"value":${body}}\n`);
}

const lines = createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    reply({ id: null, error: `bad request: ${oneLine(e)}` });
    return;
  }
  const tab = req.tab && tabs.get(req.tab);
  if (tab) tab.errors.length = 0;
  try {
    const value = await ops[req.op](req);
    const state = tab && req.op === "call" ? await tabState(tab) : {};
    reply({ id: req.id, value: value ?? null, errors: tab ? tab.errors.slice() : [], ...state });
  } catch (e) {
    const state = tab && req.op === "call" ? await tabState(tab) : {};
    reply({ id: req.id, error: oneLine(e), errors: tab ? tab.errors.slice() : [], value: null, ...state });
  }
  if (req.op === "quit") process.exit(0);
});
lines.on("close", () => {
  killBrowser();
  process.exit(0);
});
// Python gone without a word: PR_SET_PDEATHSIG sends us SIGTERM; take the browser with us.
for (const sig of ["SIGTERM", "SIGHUP", "SIGINT"]) {
  process.on(sig, () => {
    killBrowser();
    process.exit(128 + (sig === "SIGHUP" ? 1 : sig === "SIGINT" ? 2 : 15));
  });
}
