import { gql } from "@apollo/client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApolloClient } from "./client";
import type { Connection } from "./connection";
import { Session } from "./session";

const answers: Record<string, unknown> = {
  LikePost: { likePost: { __typename: "PostPayload", position: "17", post: { __typename: "Post", id: "p1", likeCount: 1 } } },
  Head: { headPosition: "17" },
};

function fakeFetch() {
  return vi.fn(async (_url: string, init: RequestInit) => {
    const { operationName } = JSON.parse(String(init.body)) as { operationName: string };
    return new Response(JSON.stringify({ data: answers[operationName] }), {
      headers: { "Content-Type": "application/json" },
    });
  });
}

afterEach(() => vi.unstubAllGlobals());

describe("the Apollo client's links", () => {
  it("send the token, and after a write ask reads for its position (read-your-writes)", async () => {
    const fetch = fakeFetch();
    vi.stubGlobal("fetch", fetch);
    const session = new Session(null);
    session.signIn("t0k3n", { id: "u1", username: "ada", displayName: "Ada" });
    const client = createApolloClient(session, { client: {} } as unknown as Connection, "http://test/graphql");

    await client.query({ query: gql`query Head { headPosition }`, fetchPolicy: "network-only" });
    let headers = new Headers(fetch.mock.calls[0]![1].headers);
    expect(headers.get("Authorization")).toBe("Bearer t0k3n");
    expect(headers.get("X-Min-Position")).toBeNull();

    await client.mutate({ mutation: gql`mutation LikePost { likePost(id: "p1") { position post { id likeCount } } }` });
    await client.query({ query: gql`query Head { headPosition }`, fetchPolicy: "network-only" });
    headers = new Headers(fetch.mock.calls[2]![1].headers);
    expect(headers.get("X-Min-Position")).toBe("17");
  });
});
