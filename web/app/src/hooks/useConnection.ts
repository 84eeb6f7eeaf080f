import { useSyncExternalStore } from "react";
import { useServices } from "../apollo/context";
import type { ConnectionSnapshot } from "../apollo/connection";

export function useConnection(): ConnectionSnapshot {
  const { connection } = useServices();
  return useSyncExternalStore(connection.subscribe, connection.get);
}

/**
 * A number that grows on every reconnect of the websocket (not the first
 * connection): live views list it as an effect dependency and catch up then.
 */
export function useReconnects(): number {
  return useConnection().reconnects;
}
