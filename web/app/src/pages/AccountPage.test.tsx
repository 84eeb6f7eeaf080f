import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { renderApp } from "../test/render";
import { AccountPage, AccountQuery, ChangePassword } from "./AccountPage";

const me = {
  __typename: "User",
  id: "u1",
  username: "ada",
  displayName: "Ada",
  email: "ada@example.org",
  bio: null,
  role: "MEMBER",
  createdAt: "2026-01-01T00:00:00Z",
  postCount: 0,
};

describe("AccountPage", () => {
  it("shows a refused current password beside its field, read with it", async () => {
    const input = { currentPassword: "not it", newPassword: "a new password" };
    const refused = new GraphQLError("current password is wrong", { extensions: { code: "BAD_USER_INPUT", field: "currentPassword" } });
    renderApp(<AccountPage />, {
      mocks: [
        { request: { query: AccountQuery }, result: { data: { me } }, delay: 0 },
        { request: { query: ChangePassword, variables: { input } }, result: { errors: [refused] }, delay: 0 },
      ],
    });
    const current = await screen.findByLabelText("Current password");
    const next = screen.getByLabelText("New password");
    expect(next).toHaveAccessibleDescription("Other devices signed in as you are signed out.");
    await userEvent.type(current, input.currentPassword);
    await userEvent.type(next, input.newPassword);
    await userEvent.click(screen.getByRole("button", { name: "Change password" }));

    expect(await screen.findByText("current password is wrong")).toBeInTheDocument();
    expect(current).toHaveAttribute("aria-invalid", "true");
    expect(current).toHaveAccessibleDescription("current password is wrong");
    expect(next).not.toHaveAttribute("aria-invalid");
    // Said once, at its field: no general alert repeats it.
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });
});
