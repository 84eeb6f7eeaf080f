import "graphiql/setup-workers/vite";
import "graphiql/style.css";

import { GraphiQL } from "graphiql";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { defaultQuery } from "./defaultQuery";
import { endpointsFor } from "./endpoints";
import { createChronicleFetcher } from "./fetcher";

const fetcher = createChronicleFetcher(endpointsFor(window.location));

const container = document.getElementById("graphiql");
if (!container) throw new Error("index.html lost its #graphiql element");

createRoot(container).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} defaultEditorToolsVisibility="headers">
      <GraphiQL.Logo>Chronicle</GraphiQL.Logo>
    </GraphiQL>
  </StrictMode>,
);
