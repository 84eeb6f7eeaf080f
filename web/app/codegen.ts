import type { CodegenConfig } from "@graphql-codegen/cli";

// Operations are typed from the SDL the server exports (`make schema`), which
// the repository commits and a Python test keeps equal to the served schema.
const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**/*", "!src/**/*.test.{ts,tsx}"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { Position: "string", DateTime: "string", JSON: "unknown", ID: "string" },
      },
    },
  },
  silent: true,
};

export default config;
