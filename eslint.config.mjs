// ESLint (flat config) for the JavaScript that ships or runs in the engines: the web app
// (apps/web/src, JSX, ES modules), the runtime pages (runtimes/browser/static: classic scripts
// that TF.js's and Pyodide's script tags put beside `tf` and `loadPyodide`), and the Node bridge
// that drives Firefox (runtimes/browser/*.mjs). `make lint` runs it; a finding fails the build.
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";

export default [
  {
    ignores: ["**/node_modules/**", "**/dist/**", ".venv/**", "reports/**", "tests/fixtures/**"],
  },
  js.configs.recommended,
  {
    files: ["apps/web/src/**/*.{js,jsx}"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: globals.browser,
      parserOptions: { ecmaFeatures: { jsx: true } },
    },
    plugins: { "react-hooks": reactHooks },
    rules: {
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "error",
    },
  },
  {
    files: ["apps/web/vite.config.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.node },
  },
  {
    files: ["runtimes/browser/static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: { ...globals.browser, tf: "readonly", loadPyodide: "readonly" },
    },
  },
  {
    files: ["runtimes/browser/**/*.mjs"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.node },
  },
];
