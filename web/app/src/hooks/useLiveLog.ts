import { useApolloClient } from "@apollo/client/react";
import { useEffect, useReducer, useRef, useState } from "react";
import { graphql } from "../gql";
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

/**
 * Catch-up then live: every visible event (of `types` in `streamId` when
 * given) into a buffer, rendered at most once per frame. After a reconnect it
 * resumes after the last event it holds, so nothing is missed or repeated.
 */
export function useLiveLog(streamId: string | null, types: string[] | null) {
  const client = useApolloClient();
  const reconnects = useReconnects();
  // The hook's owner gives it a fresh key per filter: the buffer is made once.
  const [buffer] = useState(() => new LogBuffer(types ? new Set(types) : null));
  const [version, render] = useReducer((n: number) => n + 1, 0);
  const frame = useRef<number | null>(null);
  const typesKey = types?.join(",") ?? "";

  useEffect(() => {
    // A member forgotten meanwhile is erased from what is shown, whatever the filter.
    const list = typesKey ? [...new Set([...typesKey.split(","), "UserForgotten"])] : null;
    const observable = client.subscribe({
      query: EventsSubscription,
      variables: { after: buffer.lastPosition(), streamId, types: list },
      fetchPolicy: "no-cache",
    });
    const subscription = observable.subscribe({
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
    });
    return () => {
      subscription.unsubscribe();
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
