import { useServices } from "../apollo/context";
import { useConnection } from "../hooks/useConnection";

const LABELS = { live: "Live", reconnecting: "Reconnecting", offline: "Offline" } as const;

/** The app's one connection indicator: live, reconnecting or offline, with a retry. */
export function ConnectionStatus() {
  const { connection } = useServices();
  const { state } = useConnection();
  return (
    <div className="connection">
      <span role="status" aria-label="Connection" className={`connection-state connection-${state}`}>
        <span className="dot" aria-hidden="true" />
        {LABELS[state]}
      </span>
      {state !== "live" && (
        <button type="button" className="link-button" onClick={() => connection.retry()}>
          Retry
        </button>
      )}
    </div>
  );
}
