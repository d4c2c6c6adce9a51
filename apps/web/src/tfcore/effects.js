// tfjs-core's required side effects (its dist/base_side_effects.js) for this app: the engine, the
// flags, the op handler, and a browser platform that is plain fetch/performance/TextEncoder. TF.js's
// own browser platform also registers the localStorage and IndexedDB model stores, whose code (~4 kB
// gzip) the app never uses: it loads its model with fetch() (engine.js). Vite maps
// "@tensorflow/tfjs-core" to ./base.js (vite.config.js), so every backend shares this set-up.
import { getOrMakeEngine } from "@tensorflow/tfjs-core/dist/engine.js";
import "@tensorflow/tfjs-core/dist/flags.js";
import { env } from "@tensorflow/tfjs-core/dist/environment.js";
import { buffer } from "@tensorflow/tfjs-core/dist/ops/buffer.js";
import { cast } from "@tensorflow/tfjs-core/dist/ops/cast.js";
import { clone } from "@tensorflow/tfjs-core/dist/ops/clone.js";
import { print } from "@tensorflow/tfjs-core/dist/ops/print.js";
import { isTypedArrayBrowser } from "@tensorflow/tfjs-core/dist/platforms/is_typed_array_browser.js";
import { setOpHandler } from "@tensorflow/tfjs-core/dist/tensor.js";

getOrMakeEngine();

class BrowserPlatform {
  fetch(path, init) {
    return fetch(path, init);
  }

  now() {
    return performance.now();
  }

  encode(text, encoding) {
    if (encoding !== "utf-8" && encoding !== "utf8") throw new Error(`Browser's encoder only supports utf-8, but got ${encoding}`);
    return new TextEncoder().encode(text);
  }

  decode(bytes, encoding) {
    return new TextDecoder(encoding).decode(bytes);
  }

  setTimeoutCustom(functionRef, delay) {
    setTimeout(functionRef, delay);
  }

  isTypedArray(a) {
    return isTypedArrayBrowser(a);
  }
}

if (env().get("IS_BROWSER")) env().setPlatform("browser", new BrowserPlatform());
setOpHandler({ buffer, cast, clone, print });
