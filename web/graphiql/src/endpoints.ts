/** Where the API lives, seen from the page: the same origin that served it. */
export type Endpoints = { http: string; ws: string };

export function endpointsFor(location: Pick<Location, "protocol" | "host">): Endpoints {
  // Behind TLS the socket must be wss:// too, or the browser blocks it as mixed content.
  const wsScheme = location.protocol === "https:" ? "wss:" : "ws:";
  return {
    http: `${location.protocol}//${location.host}/graphql`,
    ws: `${wsScheme}//${location.host}/graphql`,
  };
}
