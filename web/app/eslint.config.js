import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["src/gql/**", "test-results/**", "playwright-report/**", "node_modules/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // The React rules for the app; Playwright's fixtures call `use` too, but it is not React's.
  { files: ["src/**/*.{ts,tsx}"], ...reactHooks.configs.flat.recommended },
  {
    files: ["src/**/*.{ts,tsx}"],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ["e2e/**/*.ts", "*.config.ts", "*.config.js", "codegen.ts"],
    languageOptions: { globals: globals.node },
  },
);
