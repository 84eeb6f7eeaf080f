import { ApolloProvider } from "@apollo/client/react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { createApolloClient, webSocketUrl } from "./apollo/client";
import { Connection } from "./apollo/connection";
import { ServicesContext } from "./apollo/context";
import { Session } from "./apollo/session";
import { App } from "./App";
import "./styles.css";

const session = new Session();
const connection = new Connection(webSocketUrl(), session);
const client = createApolloClient(session, connection);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <ServicesContext.Provider value={{ session, connection }}>
      <ApolloProvider client={client}>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </ApolloProvider>
    </ServicesContext.Provider>
  </StrictMode>,
);
