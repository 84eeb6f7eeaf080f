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

// The app serves this folder at /static/graphiql/ (chronicle/static is mounted
// at /static) and answers GET /graphql from a browser with its index.html, so
// every asset URL is absolute under that base and works from either address.
export default defineConfig({
  base: "/static/graphiql/",
  plugins: [react(), ignoreOutputInGit()],
  build: {
    outDir: "../../chronicle/static/graphiql",
    emptyOutDir: true,
    // Monaco (GraphiQL's editor) is one large chunk by nature; a warning about
    // it on every build would only teach people to ignore warnings.
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      // @graphiql/react marks modules "use no memo" for the React compiler;
      // bundling drops that hint harmlessly, and saying so 3 times is noise.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
  worker: { format: "es" },
});
