import { Component, Suspense, type ReactNode } from "react";
import { useLocation } from "react-router";
import { Loading } from "./ErrorMessage";

/** A page loads its code on first visit; a page that fails says so instead of blanking the app. */
export function PageBoundary({ children }: { children: ReactNode }) {
  const { pathname } = useLocation();
  // A new path is a fresh start: an error on one page does not follow the reader.
  return (
    <Failed key={pathname}>
      <Suspense fallback={<Loading label="Loading the page…" />}>{children}</Suspense>
    </Failed>
  );
}

class Failed extends Component<{ children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override render() {
    if (!this.state.error) return this.props.children;
    // A page's code that no longer exists: the server was updated since this tab loaded.
    const stale = /dynamically imported module|Importing a module script failed/i.test(
      String(this.state.error),
    );
    return (
      <div role="alert" className="notice notice-error">
        <p>
          <strong>This page could not be shown.</strong>{" "}
          {stale
            ? "Chronicle was updated since this tab opened: reload to get the new version."
            : "Reload to try again; the rest of the app still works."}
        </p>
        <button type="button" onClick={() => window.location.reload()}>
          Reload
        </button>
      </div>
    );
  }
}
