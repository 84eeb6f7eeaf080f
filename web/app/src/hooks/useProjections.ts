import { useApolloClient } from "@apollo/client/react";
import { useEffect, useState } from "react";
import type { Sample } from "../components/RebuildProgress";
import { graphql } from "../gql";
import type { ProjectionsQuery as Result } from "../gql/graphql";

export const ProjectionsQuery = graphql(`
  query Projections {
    headPosition
    projections {
      name
      state
      position
      lag
      lastError
      parkedEvents
      lastParkedError
    }
  }
`);

export interface ProjectionsView {
  data: Result | null;
  error: unknown;
  /** Per projection, the positions seen while it was rebuilding (the latest 10): rate and ETA. */
  samples: Record<string, Sample[]>;
  /** When the request that read `data` was sent (ms since the epoch). */
  readAt: number;
}

/** Every projection's status, read every `interval` ms while the page is open. */
export function useProjections(interval = 1000): ProjectionsView & { refresh: () => void } {
  const client = useApolloClient();
  const [view, setView] = useState<ProjectionsView>({ data: null, error: null, samples: {}, readAt: 0 });
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    async function poll() {
      const sent = Date.now();
      try {
        const { data } = await client.query({ query: ProjectionsQuery, fetchPolicy: "network-only" });
        if (stopped || !data) return;
        const at = Date.now();
        setView((previous) => {
          const samples: Record<string, Sample[]> = {};
          for (const projection of data.projections) {
            if (projection.state !== "REBUILDING") continue;
            const position = Number(projection.position);
            const list = [...(previous.samples[projection.name] ?? [])];
            if (list[list.length - 1]?.position !== position) list.push({ at, position });
            samples[projection.name] = list.slice(-10);
          }
          return { data, error: null, samples, readAt: sent };
        });
      } catch (error) {
        if (!stopped) setView((previous) => ({ ...previous, error }));
      } finally {
        if (!stopped) timer = setTimeout(() => void poll(), interval);
      }
    }
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [client, interval, tick]);

  return { ...view, refresh: () => setTick((n) => n + 1) };
}
