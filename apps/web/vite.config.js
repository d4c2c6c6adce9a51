// Builds the shipped web app into dist/. Everything the page needs comes from the app itself:
// the TF.js code is bundled from npm, the wasm binaries are copied to dist/wasm/ (the page
// points setWasmPaths there), and `harness app build` copies the model + tokenizer into
// dist/model/ after this build. No CDN, no request leaves the origin.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { cpuKernelFiles, firstKernels } from "./first_kernels.js";

const require = createRequire(import.meta.url);
const WASM_DIR = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist");
const WASM_FILES = ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm"];

function tfjsWasmBinaries() {
  return {
    name: "tfjs-wasm-binaries",
    apply: "build",
    generateBundle() {
      for (const name of WASM_FILES) {
        this.emitFile({ type: "asset", fileName: `wasm/${name}`, source: readFileSync(join(WASM_DIR, name)) });
      }
    },
  };
}

// `virtual:cpu-kernels`: the cpu backend with only the kernels the shipped model uses (see
// first_kernels.js), which the first prediction runs on; without HARNESS_MODEL_JSON (a plain
// `vite build`) it is the full cpu backend. The kernel list is written to first-kernels.json.
const CPU_KERNELS = "virtual:cpu-kernels";


function cpuKernels() {
  let found = null;
  return {
    name: "cpu-kernels",
    async buildStart() {
      const model = process.env.HARNESS_MODEL_JSON;
      found = model ? await firstKernels(model) : null;
    },
    resolveId: (id) => (id === CPU_KERNELS ? `\0${CPU_KERNELS}` : null),
    load(id) {
      if (id !== `\0${CPU_KERNELS}`) return null;
      if (!found) return `import "@tensorflow/tfjs-backend-cpu";\nexport const KERNELS = null;\n`;
      const files = cpuKernelFiles(found.kernels);
      const lines = ['import { registerKernel } from "@tensorflow/tfjs-core";', 'import "@tensorflow/tfjs-backend-cpu/dist/base";'];
      files.forEach((f, i) => lines.push(`import * as k${i} from ${JSON.stringify(f.module)};`));
      lines.push(`const modules = [${files.map((_, i) => `k${i}`).join(", ")}];`);
      lines.push(`export const KERNELS = ${JSON.stringify(found.kernels)};`);
      lines.push("KERNELS.forEach((name, i) => {");
      lines.push('  const config = Object.values(modules[i]).find((v) => v && v.kernelName === name && v.backendName === "cpu");');
      lines.push("  if (!config) throw new Error(`no cpu kernel config for ${name}`);");
      lines.push("  registerKernel(config);");
      lines.push("});");
      return lines.join("\n") + "\n";
    },
    generateBundle() {
      if (found) this.emitFile({ type: "asset", fileName: "first-kernels.json", source: JSON.stringify(found, null, 1) });
    },
  };
}

// "@tensorflow/tfjs-core" is src/tfcore/base.js in the bundle: tfjs-core without the optimizers,
// the model stores and tf.io's loaders, which the app never calls (see that file). Every backend
// imports the name, so they all get it; the file itself imports tfjs-core's dist/ paths.
const CORE = "@tensorflow/tfjs-core";
const CORE_BASE = fileURLToPath(new URL("./src/tfcore/base.js", import.meta.url));

function coreBase() {
  return { name: "tfjs-core-base", enforce: "pre", resolveId: (source) => (source === CORE ? CORE_BASE : null) };
}

export default defineConfig({
  base: "./", // relative URLs: the app works wherever it is mounted
  plugins: [coreBase(), tfjsWasmBinaries(), cpuKernels()],
  logLevel: "warn",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2020",
    sourcemap: false,
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
    // Mangle but do not compress: the wasm backend runs `factory.toString()` in its worker, and
    // compression rewrites its `typeof _scriptDir !== "undefined"` guard into a bare reference
    // to a variable that exists only in the page ("e is not defined" in every worker).
    rolldownOptions: { output: { minify: { compress: false, mangle: true } } },
  },
});
