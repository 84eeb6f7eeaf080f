import { useSyncExternalStore } from "react";
import { useServices } from "../apollo/context";
import type { SessionSnapshot } from "../apollo/session";

export function useSession(): SessionSnapshot {
  const { session } = useServices();
  return useSyncExternalStore(session.subscribe, session.get);
}
