import { fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import { VersionSlider } from "./VersionSlider";

function Harness({ start = 4, max = 4 }: { start?: number; max?: number }) {
  const [version, setVersion] = useState(start);
  return <VersionSlider value={version} max={max} onChange={setVersion} />;
}

describe("VersionSlider", () => {
  it("is a slider named Version whose value is the version", () => {
    render(<Harness start={3} />);
    const slider = screen.getByRole("slider", { name: "Version" });
    expect(slider).toHaveValue("3");
    expect(slider).toHaveAttribute("aria-valuetext", "Version 3 of 4");
  });

  it("steps with the buttons and stops at either end", async () => {
    render(<Harness start={2} />);
    const slider = screen.getByRole("slider", { name: "Version" });
    await userEvent.click(screen.getByRole("button", { name: "Previous version" }));
    expect(slider).toHaveValue("1");
    expect(screen.getByRole("button", { name: "Previous version" })).toBeDisabled();
    await userEvent.click(screen.getByRole("button", { name: "Next version" }));
    await userEvent.click(screen.getByRole("button", { name: "Next version" }));
    await userEvent.click(screen.getByRole("button", { name: "Next version" }));
    expect(slider).toHaveValue("4");
    expect(screen.getByRole("button", { name: "Next version" })).toBeDisabled();
  });

  it("follows the keyboard (the range input's arrows change its value)", () => {
    render(<Harness start={4} />);
    const slider = screen.getByRole("slider", { name: "Version" });
    // jsdom does not implement a range input's arrow keys: the change they cause is fired.
    fireEvent.change(slider, { target: { value: "3" } });
    expect(slider).toHaveValue("3");
    expect(screen.getByText(/v3/)).toBeInTheDocument();
  });
});
