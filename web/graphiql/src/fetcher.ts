import {
  createGraphiQLFetcher,
  type Fetcher,
  type FetcherOpts,
  type FetcherParams,
} from "@graphiql/toolkit";
import { getOperationAST } from "graphql";
import { createClient, type ExecutionResult } from "graphql-ws";

import { connectionParamsFrom } from "./connectionParams";
import type { Endpoints } from "./endpoints";

/**
 * Queries and mutations go over HTTP with the headers from GraphiQL's pane
 * (the toolkit merges them per request). Subscriptions go over graphql-ws
 * (graphql-transport-ws), one socket per subscription so that each one
 * authenticates with the headers in the pane at the moment it starts.
 */
export function createChronicleFetcher(endpoints: Endpoints): Fetcher {
  const http = createGraphiQLFetcher({ url: endpoints.http });
  return (params: FetcherParams, opts?: FetcherOpts) => {
    const document = opts?.documentAST;
    const operation = document && getOperationAST(document, params.operationName ?? null);
    if (operation?.operation === "subscription") {
      return subscribe(endpoints.ws, params, opts?.headers ?? {});
    }
    return http(params, opts);
  };
}

async function* subscribe(
  url: string,
  params: FetcherParams,
  headers: Record<string, unknown>,
): AsyncGenerator<ExecutionResult> {
  const client = createClient({
    url,
    connectionParams: connectionParamsFrom(headers),
    // One attempt: a refused token should show its error, not retry silently.
    retryAttempts: 0,
  });
  try {
    const results = client.iterate({
      query: params.query,
      operationName: params.operationName ?? null,
      variables: (params.variables ?? {}) as Record<string, unknown>,
    });
    for await (const result of results) {
      // The toolkit types results as graphql-js ExecutionResult (errors as
      // GraphQLError instances); over the wire they are the formatted JSON
      // shape, which is all GraphiQL reads when it renders them.
      yield result as ExecutionResult;
    }
  } finally {
    // Stopping the subscription in GraphiQL ends this generator: close the socket.
    await client.dispose();
  }
}
