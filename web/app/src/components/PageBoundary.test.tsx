import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { lazy } from "react";
import { Link, MemoryRouter, Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { PageBoundary } from "./PageBoundary";

function Broken(): never {
  throw new Error("a bug in this page");
}

function app(path: string, page: React.ReactNode) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <nav>
        <Link to="/fine">Fine page</Link>
      </nav>
      <PageBoundary>
        <Routes>
          <Route path="/broken" element={page} />
          <Route path="/fine" element={<h1>A page that works</h1>} />
        </Routes>
      </PageBoundary>
    </MemoryRouter>,
  );
}

describe("PageBoundary", () => {
  it("says a page failed instead of blanking the app, and the next page shows again", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {}); // React reports the caught error
    app("/broken", <Broken />);
    expect(screen.getByRole("alert")).toHaveTextContent("This page could not be shown.");
    expect(screen.getByRole("button", { name: "Reload" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("link", { name: "Fine page" }));
    expect(screen.getByRole("heading", { name: "A page that works" })).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("shows a loading status while a page's code arrives", async () => {
    let arrive: (page: { default: () => React.ReactNode }) => void = () => {};
    const Later = lazy(() => new Promise<{ default: () => React.ReactNode }>((r) => (arrive = r)));
    app("/broken", <Later />);
    expect(screen.getByRole("status")).toHaveTextContent("Loading the page…");
    arrive({ default: () => <h1>Arrived</h1> });
    expect(await screen.findByRole("heading", { name: "Arrived" })).toBeInTheDocument();
  });

  it("tells a reader whose tab is older than the server to reload", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const missing = new TypeError("Failed to fetch dynamically imported module: /assets/x.js");
    const Gone = lazy(() => Promise.reject(missing));
    app("/broken", <Gone />);
    expect(await screen.findByText(/Chronicle was updated since this tab opened/)).toBeInTheDocument();
  });
});
