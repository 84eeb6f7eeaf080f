import { useApolloClient, useQuery } from "@apollo/client/react";
import { useEffect } from "react";
import { Link, NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { PageBoundary } from "./PageBoundary";
import { useServices } from "../apollo/context";
import { graphql } from "../gql";
import { useSession } from "../hooks/useSession";
import { ConnectionStatus } from "./ConnectionStatus";

const Me = graphql(`
  query Me {
    me {
      id
      username
      displayName
      role
    }
  }
`);

export function Layout() {
  const { session, connection } = useServices();
  const { user, expired } = useSession();
  const client = useApolloClient();
  const navigate = useNavigate();
  const location = useLocation();

  // The server treats an expired token as none: `me` is then null.
  const me = useQuery(Me, { skip: !user });
  useEffect(() => {
    if (user && me.data && me.data.me === null) session.expire();
  }, [user, me.data, session]);

  // A refused token leads to sign-in, and back to where the person was after.
  useEffect(() => {
    if (expired && location.pathname !== "/signin") {
      connection.restart();
      void client.resetStore().catch(() => undefined);
      navigate("/signin", { state: { from: location.pathname + location.search } });
    }
  }, [expired, location.pathname, location.search, navigate, connection, client]);

  function signOut() {
    session.signOut();
    connection.restart();
    void client.resetStore().catch(() => undefined);
    navigate("/");
  }

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="site-header-inner">
          <Link to="/" className="brand">
            Chronicle
          </Link>
          <nav aria-label="Main">
            <NavLink to="/" end>
              Feed
            </NavLink>
            {user && <NavLink to="/new">New post</NavLink>}
            {user && <NavLink to="/drafts">Drafts</NavLink>}
            {user && <NavLink to="/log">Live log</NavLink>}
            <NavLink to="/catalogue">Events</NavLink>
            {user && me.data?.me?.role === "ADMIN" && <NavLink to="/admin">Admin</NavLink>}
          </nav>
          <ConnectionStatus />
          <div className="account">
            {user ? (
              <>
                <NavLink className="whoami" to="/account" title={`@${user.username}`} aria-label={`Your account: ${user.displayName}`}>
                  {user.displayName}
                </NavLink>
                <button type="button" onClick={signOut}>
                  Sign out
                </button>
              </>
            ) : (
              <>
                <NavLink to="/signin">Sign in</NavLink>
                <NavLink to="/register">Register</NavLink>
              </>
            )}
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <PageBoundary>
          <Outlet />
        </PageBoundary>
      </main>
    </>
  );
}

/** Pages for members only: others are sent to sign in, then brought back. */
export function RequireMember({ children }: { children: React.ReactNode }) {
  const { user } = useSession();
  const location = useLocation();
  const navigate = useNavigate();
  useEffect(() => {
    if (!user) navigate("/signin", { replace: true, state: { from: location.pathname + location.search } });
  }, [user, navigate, location.pathname, location.search]);
  return user ? <>{children}</> : null;
}
