import type { MockLink } from "@apollo/client/testing";
import { MockedProvider } from "@apollo/client/testing/react";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter, Route, Routes } from "react-router";
import { createCache } from "../apollo/client";
import type { Connection, ConnectionSnapshot } from "../apollo/connection";
import { ServicesContext } from "../apollo/context";
import { Session } from "../apollo/session";

/** A connection that never opens a socket: its state is set by the test. */
export function fakeConnection(initial: ConnectionSnapshot = { state: "live", reconnects: 0 }) {
  let snapshot = initial;
  const listeners = new Set<() => void>();
  const fake = {
    get: () => snapshot,
    subscribe: (listener: () => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    retry: () => undefined,
    changingToken: () => undefined,
    restart: () => undefined,
    change(next: ConnectionSnapshot) {
      snapshot = next;
      listeners.forEach((listener) => listener());
    },
  };
  return fake as unknown as Connection & { change: (next: ConnectionSnapshot) => void };
}

export function renderApp(
  ui: ReactElement,
  { mocks = [], path = "/", route = "/", session = new Session(null), connection = fakeConnection() }: {
    mocks?: MockLink.MockedResponse[];
    path?: string;
    route?: string;
    session?: Session;
    connection?: ReturnType<typeof fakeConnection>;
  } = {},
) {
  const cache = createCache();
  const result = render(
    <ServicesContext.Provider value={{ session, connection }}>
      <MockedProvider mocks={mocks} cache={cache}>
        <MemoryRouter initialEntries={[route]}>
          <Routes>
            <Route path={path} element={ui} />
          </Routes>
        </MemoryRouter>
      </MockedProvider>
    </ServicesContext.Provider>,
  );
  return { ...result, cache, session, connection };
}

export const author = { __typename: "User" as const, id: "u1", username: "ada", displayName: "Ada" };

export function post(id: string, overrides: Record<string, unknown> = {}) {
  return {
    __typename: "Post" as const,
    id,
    title: `Post ${id}`,
    body: `Body of ${id}`,
    tags: ["news"],
    status: "PUBLISHED" as const,
    version: 2,
    createdAt: "2026-01-01T00:00:00Z",
    updatedAt: "2026-01-01T00:00:00Z",
    publishedAt: "2026-01-01T00:00:00Z",
    likeCount: 0,
    likedByMe: false,
    commentCount: 0,
    author,
    ...overrides,
  };
}
