// The Apollo client: HTTP for queries and mutations, the graphql-ws link for
// subscriptions, the member's token on both, and read-your-writes positions.
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { ErrorLink } from "@apollo/client/link/error";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import type { FieldPolicy, Reference } from "@apollo/client/cache";
import { OperationTypeNode } from "graphql";
import { map } from "rxjs";
import type { Connection } from "./connection";
import type { Session } from "./session";

interface Connectionish<Edge> {
  edges: Edge[];
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
  totalCount?: number;
}

/** Cursor pages of one list: a page `after` a cursor appends, a first page replaces. */
export function cursorPages<Edge extends { node: Reference | { __ref?: string } }>(
  keyArgs: string[] | false,
): FieldPolicy<Connectionish<Edge>> {
  return {
    keyArgs,
    merge(existing, incoming, { args }) {
      if (!existing || !args?.after) return incoming;
      const seen = new Set(existing.edges.map((edge) => refOf(edge.node)));
      const added = incoming.edges.filter((edge) => !seen.has(refOf(edge.node)));
      return { ...incoming, edges: [...existing.edges, ...added] };
    },
  };
}

function refOf(node: Reference | { __ref?: string }): string | undefined {
  return (node as { __ref?: string }).__ref;
}

export function createCache(): InMemoryCache {
  return new InMemoryCache({
    typePolicies: {
      Query: {
        fields: {
          posts: cursorPages(["tag", "authorUsername", "status", "search", "asOf"]),
          // post(id) reads a Post already in the cache (from the feed) at once;
          // a post the server said does not exist stays null (no refetch loop).
          post: {
            read(existing, { args, toReference }) {
              if (existing !== undefined) return existing;
              return typeof args?.id === "string" ? toReference({ __typename: "Post", id: args.id }) : undefined;
            },
          },
        },
      },
      Post: { fields: { comments: cursorPages(false) } },
      // A post's past states share the post's id: one entry per version.
      PostState: { keyFields: ["id", "version"] },
    },
  });
}

export function createApolloClient(session: Session, connection: Connection, uri = "/graphql"): ApolloClient {
  const auth = new SetContextLink((prev, operation) => {
    const headers: Record<string, string> = { ...(prev.headers as Record<string, string> | undefined) };
    const { token } = session.get();
    if (token) headers.Authorization = `Bearer ${token}`;
    const minPosition = session.minPosition();
    if (minPosition && operation.operationType === OperationTypeNode.QUERY) {
      headers["X-Min-Position"] = minPosition;
    }
    return { headers };
  });

  // Every mutation payload carries the position of its write: later reads ask for it.
  const positions = new ApolloLink((operation, forward) =>
    forward(operation).pipe(
      map((result) => {
        if (operation.operationType === OperationTypeNode.MUTATION && result.data) {
          for (const value of Object.values(result.data as Record<string, unknown>)) {
            const position = (value as { position?: unknown } | null)?.position;
            if (typeof position === "string") session.noteWrite(position);
          }
        }
        return result;
      }),
    ),
  );

  // A refused token sends the person back to sign in (their drafts are kept).
  const expiry = new ErrorLink(({ error }) => {
    if (
      CombinedGraphQLErrors.is(error) &&
      error.errors.some((e) => e.extensions?.code === "UNAUTHENTICATED") &&
      session.get().token
    ) {
      session.expire();
    }
  });

  const http = ApolloLink.from([auth, positions, expiry, new HttpLink({ uri })]);
  const ws = new GraphQLWsLink(connection.client);
  const link = ApolloLink.split(
    (operation) => operation.operationType === OperationTypeNode.SUBSCRIPTION,
    ws,
    http,
  );
  return new ApolloClient({ link, cache: createCache() });
}

export function webSocketUrl(path = "/graphql"): string {
  const { protocol, host } = window.location;
  return `${protocol === "https:" ? "wss" : "ws"}://${host}${path}`;
}
