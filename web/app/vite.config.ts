/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// The build output is made by `make install`, never committed: the folder
// carries its own .gitignore so that a build leaves `git status` clean.
function ignoreOutputInGit(): Plugin {
  return {
    name: "chronicle-ignore-output-in-git",
    generateBundle() {
      this.emitFile({ type: "asset", fileName: ".gitignore", source: "*\n" });
    },
  };
}

// `chronicle serve` answers `/` (and every client route) with this build's
// index.html and mounts the folder at `/`, so assets live under /assets/.
export default defineConfig({
  base: "/",
  plugins: [react(), ignoreOutputInGit()],
  // `npx vite` for development, against a `chronicle serve` on port 8000.
  server: {
    proxy: { "/graphql": { target: "http://127.0.0.1:8000", ws: true } },
  },
  build: {
    outDir: "../../chronicle/static/web",
    emptyOutDir: true,
    rolldownOptions: {
      output: {
        // The libraries change far less often than the app: a chunk of their own
        // stays cached in browsers across Chronicle's releases.
        codeSplitting: {
          groups: [
            { name: "react", test: /node_modules[\\/](react|react-dom|react-router|scheduler)[\\/]/ },
            { name: "apollo", test: /node_modules[\\/](@apollo|graphql|graphql-ws|rxjs|@wry|optimism|tslib|zen-observable)/ },
          ],
        },
      },
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
