import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { parseTags, PostForm } from "./PostForm";

describe("PostForm", () => {
  it("shows each server message beside its field and says which button was pressed", async () => {
    const onSubmit = vi.fn();
    render(
      <PostForm
        draft={{ title: "", body: "text", tags: "" }}
        onChange={() => undefined}
        fieldErrors={{ title: "title must not be empty" }}
        onSubmit={onSubmit}
        busy={false}
        actions={[
          { intent: "publish", label: "Publish", primary: true },
          { intent: "draft", label: "Save draft" },
        ]}
      />,
    );
    const title = screen.getByLabelText("Title");
    expect(title).toHaveAttribute("aria-invalid", "true");
    expect(title).toHaveAccessibleDescription("title must not be empty");
    expect(screen.getByLabelText("Body")).not.toHaveAttribute("aria-invalid");
    await userEvent.click(screen.getByRole("button", { name: "Save draft" }));
    expect(onSubmit).toHaveBeenCalledWith("draft");
  });

  it("reads tags separated by commas or spaces", () => {
    expect(parseTags("news, #Python  web,,")).toEqual(["news", "Python", "web"]);
  });
});
