// The entry script: mounts the app; a crash while starting shows a message, never a blank page.
import { startApp } from "./app.js";
import { errorBox } from "./view.js";
import "./styles.css";

const root = document.getElementById("root");
try {
  startApp(root);
} catch (error) {
  const main = document.createElement("main");
  main.className = "app";
  main.append(errorBox("Something went wrong in the app.", String(error?.message || error)));
  root.replaceChildren(main);
}
