import { useMutation } from "@apollo/client/react";
import { useState } from "react";
import { ErrorMessage, Loading } from "../components/ErrorMessage";
import { RebuildProgress } from "../components/RebuildProgress";
import { graphql } from "../gql";
import { useProjections } from "../hooks/useProjections";

export const RebuildProjection = graphql(`
  mutation RebuildProjection($name: String!) {
    rebuildProjection(name: $name) {
      name
      state
      position
      lag
      lastError
    }
  }
`);

const STATES: Record<string, string> = { LIVE: "Live", CATCHING_UP: "Catching up", REBUILDING: "Rebuilding", FAILED: "Failed" };

/** The operator's view: projections, updated every second, and their rebuilds. */
export function AdminPage() {
  const { data, error, samples, readAt, refresh } = useProjections(1000);
  const [rebuild, rebuilding] = useMutation(RebuildProjection);
  const [target, setTarget] = useState<string | null>(null);
  const [answeredAt, setAnsweredAt] = useState(Number.POSITIVE_INFINITY);

  const row = data?.projections.find((projection) => projection.name === target);
  const head = Number(data?.headPosition ?? 0);
  const rebuildingNow = row?.state === "REBUILDING";
  // Done once a status read after the mutation answered no longer says REBUILDING.
  const done = Boolean(row && !rebuildingNow && readAt > answeredAt && !rebuilding.error);
  const position = row && (rebuildingNow || done) ? Number(row.position) : 0;

  async function start(name: string) {
    setTarget(name);
    setAnsweredAt(Number.POSITIVE_INFINITY);
    try {
      await rebuild({ variables: { name } });
    } catch {
      // shown below
    }
    setAnsweredAt(now());
    refresh();
  }

  if (!data && !error) return <Loading label="Loading the projections…" />;
  if (error && !data) return <ErrorMessage error={error} title="The projections could not be loaded." />;
  return (
    <>
      <h1 className="page-title">Operations</h1>
      <section className="card" aria-labelledby="projections-title">
        <h2 id="projections-title">Projections</h2>
        <p className="muted">
          The read models, each built from the log. Log head: position {head.toLocaleString()}; the lag is the number of events a
          projection has still to apply. Updated every second.
        </p>
        <div className="table-scroll">
          <table aria-label="Projections" className="projections">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Position</th>
                <th scope="col">Lag</th>
                <th scope="col">Last error</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data?.projections.map((projection) => (
                <tr key={projection.name}>
                  <th scope="row">{projection.name}</th>
                  <td>
                    <span className={`state state-${projection.state.toLowerCase()}`}>{STATES[projection.state] ?? projection.state}</span>
                  </td>
                  <td className="number">{Number(projection.position).toLocaleString()}</td>
                  <td className="number">{projection.lag.toLocaleString()}</td>
                  <td className="error-cell">
                    {projection.lastError ?? projection.lastParkedError ?? <span className="muted">none</span>}
                    {projection.parkedEvents > 0 && <div className="muted">{projection.parkedEvents} parked</div>}
                  </td>
                  <td>
                    <button
                      type="button"
                      onClick={() => void start(projection.name)}
                      disabled={projection.state === "REBUILDING" || (rebuilding.loading && target === projection.name)}
                      aria-label={`Rebuild ${projection.name}`}
                      title={`Rebuild ${projection.name} from position 0`}
                    >
                      Rebuild
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <ErrorMessage error={rebuilding.error} title="The rebuild did not start." />
      </section>
      {target && row && <RebuildProgress name={target} position={position} head={head} done={done} samples={samples[target] ?? []} />}
    </>
  );
}

/** The clock, read in event handlers only. */
function now(): number {
  return Date.now();
}
