import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { VersionDiff, wordDiff } from "./VersionDiff";

const v1 = { version: 1, title: "First title", body: "The quick brown fox.", tags: ["a"], status: "PUBLISHED" };
const v2 = { version: 2, title: "Second title", body: "The quick red fox.", tags: ["a"], status: "PUBLISHED" };

describe("VersionDiff", () => {
  it("diffs word by word", () => {
    const changes = wordDiff("The quick brown fox.", "The quick red fox.");
    expect(changes.filter((c) => c.removed).map((c) => c.value)).toEqual(["brown"]);
    expect(changes.filter((c) => c.added).map((c) => c.value)).toEqual(["red"]);
  });

  it("shows removed and added words inline, and only the fields that changed", () => {
    const { container } = render(<VersionDiff from={v1} to={v2} mode="inline" />);
    const group = screen.getByRole("group", { name: "Changes from version 1 to version 2" });
    expect([...container.querySelectorAll("del")].map((e) => e.textContent)).toEqual(["First", "brown"]);
    expect([...container.querySelectorAll("ins")].map((e) => e.textContent)).toEqual(["Second", "red"]);
    expect(within(group).queryByText("Tags")).not.toBeInTheDocument();
  });

  it("shows each side in its own column when split", () => {
    render(<VersionDiff from={v1} to={v2} mode="split" />);
    const [before] = screen.getAllByLabelText("Version 1");
    const [after] = screen.getAllByLabelText("Version 2");
    expect(before).toHaveTextContent("First title");
    expect(before?.querySelector("ins")).toBeNull();
    expect(after).toHaveTextContent("Second title");
    expect(after?.querySelector("del")).toBeNull();
  });

  it("says when two versions are the same", () => {
    render(<VersionDiff from={v1} to={{ ...v1, version: 3 }} mode="inline" />);
    expect(screen.getByText("No differences between version 1 and version 3.")).toBeInTheDocument();
  });
});
