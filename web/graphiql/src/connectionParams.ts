/**
 * A websocket cannot carry HTTP headers from a browser, so the headers the
 * user typed into GraphiQL's pane travel in graphql-ws's connection_init
 * payload instead, in the shape the server reads: {"authToken", "minPosition"}.
 */
export type ConnectionParams = { authToken?: string; minPosition?: string };

type Headers = Readonly<Record<string, unknown>>;

function header(headers: Headers, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && typeof value === "string") return value.trim();
  }
  return undefined;
}

export function connectionParamsFrom(headers: Headers): ConnectionParams {
  const params: ConnectionParams = {};
  const authorization = header(headers, "Authorization");
  if (authorization) {
    params.authToken = authorization.replace(/^Bearer\s+/i, "");
  }
  const minPosition = header(headers, "X-Min-Position");
  if (minPosition) params.minPosition = minPosition;
  return params;
}
