// Builds the shipped web app into dist/. Everything the page needs comes from the app itself:
// the TF.js code is bundled from npm, the wasm binaries are copied to dist/wasm/ (the page
// points setWasmPaths there), and `harness app build` copies the model + tokenizer into
// dist/model/ after this build. No CDN, no request leaves the origin.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

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

export default defineConfig({
  base: "./", // relative URLs: the app works wherever it is mounted
  plugins: [react(), tfjsWasmBinaries()],
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
