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
 * Catch-up then live: every visible event (of `types` in `streamId` when
 * given) into a buffer, rendered at most once per frame. After a reconnect it
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
  const typesKey = types?.join(",") ?? "";

  useEffect(() => {
    // A member forgotten meanwhile is erased from what is shown, whatever the filter.
    const list = typesKey ? [...new Set([...typesKey.split(","), "UserForgotten"])] : null;
    const unsubscribe = client.subscribe<LiveLogSubscription>(
      { query: LIVE_LOG, variables: { after: buffer.lastPosition(), streamId, types: list } },
      {
        next: (result) => {
          const event = result.data?.events;
          if (!event || !buffer.add(event)) return;
          if (frame.current === null) {
            frame.current = requestAnimationFrame(() => {
              frame.current = null;
              render();
            });
          }
        },
        error: () => undefined, // the connection indicator tells the socket's story
        complete: () => undefined,
      },
    );
    return () => {
      unsubscribe();
      if (frame.current !== null) cancelAnimationFrame(frame.current);
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
