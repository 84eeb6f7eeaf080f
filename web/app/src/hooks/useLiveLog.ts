import { print } from "graphql";
import { useEffect, useReducer, useRef, useState } from "react";
import { useServices } from "../apollo/context";
import { graphql } from "../gql";
import type { LiveLogSubscription } from "../gql/graphql";
import { LogBuffer } from "./logBuffer";
import { useReconnects } from "./useConnection";

export const EventsSubscription = graphql(`
  subscription LiveLog($after: Position, $streamId: ID, $types: [String!]) {
    events(after: $after, streamId: $streamId, types: $types) {
      id
      position
      streamId
      streamType
      version
      type
      schemaVersion
      data
      occurredAt
      actorId
      correlationId
      causationId
    }
  }
`);

const LIVE_LOG = print(EventsSubscription);

/**
 * The list re-renders at most this often. Catch-up brings thousands of events
 * a second; rendering (and keeping the live end in view) on every animation
 * frame cost more of the page's time than receiving them (e2e/scale.spec.ts).
 */
export const RENDER_EVERY_MS = 100;

/**
 * Catch-up then live: every visible event (of `types` in `streamId` when
 * given) into a buffer, rendered at most once per frame and per `RENDER_EVERY_MS`. After a reconnect it
 * resumes after the last event it holds, so nothing is missed or repeated.
 *
 * It subscribes on the app's graphql-ws client directly, not through Apollo:
 * catch-up can bring 100,000 events, which the log neither caches nor
 * normalises, and Apollo's per-result work made catch-up several times slower.
 */
export function useLiveLog(streamId: string | null, types: string[] | null) {
  const { connection } = useServices();
  const client = connection.client;
  const reconnects = useReconnects();
  // The hook's owner gives it a fresh key per filter: the buffer is made once.
  const [buffer] = useState(() => new LogBuffer(types ? new Set(types) : null));
  const [version, render] = useReducer((n: number) => n + 1, 0);
  const frame = useRef<number | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const renderedAt = useRef(0);
  const typesKey = types?.join(",") ?? "";

  useEffect(() => {
    // A member forgotten meanwhile is erased from what is shown, whatever the filter.
    const list = typesKey ? [...new Set([...typesKey.split(","), "UserForgotten"])] : null;
    const unsubscribe = client.subscribe<LiveLogSubscription>(
      { query: LIVE_LOG, variables: { after: buffer.lastPosition(), streamId, types: list } },
      {
        next: (result) => {
          const event = result.data?.events;
          if (!event || !buffer.add(event) || timer.current !== null || frame.current !== null) return;
          const wait = Math.max(0, renderedAt.current + RENDER_EVERY_MS - performance.now());
          timer.current = setTimeout(() => {
            timer.current = null;
            frame.current = requestAnimationFrame(() => {
              frame.current = null;
              renderedAt.current = performance.now();
              render();
            });
          }, wait);
        },
        error: () => undefined, // the connection indicator tells the socket's story
        complete: () => undefined,
      },
    );
    return () => {
      unsubscribe();
      if (timer.current !== null) clearTimeout(timer.current);
      if (frame.current !== null) cancelAnimationFrame(frame.current);
      timer.current = null;
      frame.current = null;
    };
    // `reconnects`: resubscribe after the last event held.
  }, [client, buffer, streamId, typesKey, reconnects]);

  return {
    buffer,
    version,
    pause: () => {
      buffer.pause();
      render();
    },
    resume: () => {
      buffer.resume();
      render();
    },
  };
}
