// The page side of the harness's network guard (see runtimes/browser/driver.py): the server's
// Content-Security-Policy makes the browser refuse any request off this origin; each refusal is
// recorded here and collected by the next harness call, in Chromium, Firefox and WebKit alike.
"use strict";
window.__harnessBlocked = [];
document.addEventListener("securitypolicyviolation", (e) => window.__harnessBlocked.push(e.blockedURI || "?"));
