import { ApolloClient, ApolloLink, InMemoryCache } from "@apollo/client";
import { ApolloProvider } from "@apollo/client/react";
import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router";
import { Observable } from "rxjs";
import { describe, expect, it } from "vitest";
import { ServicesContext } from "../apollo/context";
import { Session } from "../apollo/session";
import { LogBuffer, type LogEvent } from "../hooks/logBuffer";
import { fakeConnection } from "../test/render";
import { LiveLogPage } from "./LiveLogPage";

function event(position: number, overrides: Partial<LogEvent> = {}): LogEvent {
  return {
    id: `e${position}`, position: String(position), streamId: `post-${position}`, streamType: "Post", version: 1,
    type: "PostCreated", schemaVersion: 1, data: { title: `Post ${position}` }, occurredAt: "2026-01-01T00:00:00Z",
    actorId: "u1", correlationId: null, causationId: null, ...overrides,
  };
}

describe("LogBuffer", () => {
  it("holds still while paused and shows everything on resume, without repeats", () => {
    const buffer = new LogBuffer();
    buffer.add(event(1));
    buffer.pause();
    buffer.add(event(2));
    buffer.add(event(2));
    buffer.add(event(3));
    expect(buffer.shown).toBe(1);
    expect(buffer.held()).toBe(2);
    buffer.resume();
    expect(buffer.shown).toBe(3);
    expect(buffer.events.map((e) => e.position)).toEqual(["1", "2", "3"]);
    expect(buffer.lastPosition()).toBe("3");
  });

  it("erases a forgotten member's personal fields from events already held, even filtered out", () => {
    const buffer = new LogBuffer(new Set(["UserRegistered"]));
    buffer.add(event(1, { type: "UserRegistered", streamId: "u9", streamType: "User", data: { userId: "u9", username: "ada", email: "ada@x.org", displayName: "Ada" } }));
    expect(buffer.add(event(2, { type: "UserForgotten", streamId: "u9", streamType: "User", data: { userId: "u9" } }))).toBe(true);
    expect(buffer.events).toHaveLength(1);
    expect(buffer.events[0]?.data).toEqual({ userId: "u9", username: "ada", email: null, displayName: null });
  });
});

describe("LiveLogPage", () => {
  it("pauses and resumes, catching up with what came meanwhile", async () => {
    // The log subscribes on the graphql-ws client itself; its event types come through Apollo.
    let sink: { next: (value: { data: { events: LogEvent } }) => void } | null = null;
    const connection = Object.assign(fakeConnection(), {
      client: {
        subscribe: (_payload: unknown, next: typeof sink) => {
          sink = next;
          return () => undefined;
        },
      },
    });
    const link = new ApolloLink(
      () =>
        new Observable<ApolloLink.Result>((observer) => {
          observer.next({ data: { eventTypes: [{ __typename: "EventType", name: "PostCreated", streamType: "Post" }] } });
          observer.complete();
        }),
    );
    const client = new ApolloClient({ link, cache: new InMemoryCache() });
    const push = (position: number) => act(() => sink?.next({ data: { events: event(position) } }));
    render(
      <ServicesContext.Provider value={{ session: new Session(null), connection }}>
        <ApolloProvider client={client}>
          <MemoryRouter initialEntries={["/log"]}>
            <Routes>
              <Route path="/log" element={<LiveLogPage />} />
            </Routes>
          </MemoryRouter>
        </ApolloProvider>
      </ServicesContext.Provider>,
    );
    const region = await screen.findByRole("region", { name: "Live log" });
    expect(region).toBeInTheDocument();
    push(1);
    push(2);
    expect(await screen.findByText("2 events")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Pause" }));
    push(3);
    push(4);
    push(5);
    expect(await screen.findByText("Paused · 3 new events held")).toBeInTheDocument();
    expect(screen.getByText("2 events")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Resume" }));
    expect(await screen.findByText("5 events")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Pause" })).toBeInTheDocument();
  });
});
