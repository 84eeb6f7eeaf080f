import { createContext, useContext } from "react";
import type { Connection } from "./connection";
import type { Session } from "./session";

export interface AppServices {
  session: Session;
  connection: Connection;
}

export const ServicesContext = createContext<AppServices | null>(null);

export function useServices(): AppServices {
  const services = useContext(ServicesContext);
  if (!services) throw new Error("useServices outside ServicesContext");
  return services;
}
