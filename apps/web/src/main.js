// The entry script: mounts the app; a crash while starting shows a message, never a blank page.
import { startApp } from "./app.js";
import { errorBox } from "./view.js";
import styles from "./styles.css?inline";

// The styles travel in the entry chunk, not as a stylesheet of their own: one request fewer
// before the first score (engine.js says why that counts).
document.head.append(Object.assign(document.createElement("style"), { textContent: styles }));

const root = document.getElementById("root");
try {
  startApp(root);
} catch (error) {
  const main = document.createElement("main");
  main.className = "app";
  main.append(errorBox("Something went wrong in the app.", String(error?.message || error)));
  root.replaceChildren(main);
}
