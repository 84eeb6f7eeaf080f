import { act, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { fakeConnection, renderApp } from "../test/render";
import { ConnectionStatus } from "./ConnectionStatus";

describe("ConnectionStatus", () => {
  it("says Live, Reconnecting and Offline as the socket's state changes, with a retry", async () => {
    const connection = fakeConnection();
    const retry = vi.spyOn(connection, "retry");
    renderApp(<ConnectionStatus />, { connection });
    const status = screen.getByRole("status", { name: "Connection" });
    expect(status).toHaveTextContent("Live");
    expect(screen.queryByRole("button", { name: "Retry" })).not.toBeInTheDocument();

    act(() => connection.change({ state: "reconnecting", reconnects: 0 }));
    expect(status).toHaveTextContent("Reconnecting");
    act(() => connection.change({ state: "offline", reconnects: 0 }));
    expect(status).toHaveTextContent("Offline");
    await userEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(retry).toHaveBeenCalled();
  });
});
