import type { MockLink } from "@apollo/client/testing";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { post, renderApp } from "../test/render";
import { FeedPage, FeedQuery, FeedUpdates, PAGE_SIZE, PastFeedQuery, PositionAtQuery } from "./FeedPage";

function page(ids: string[], hasNextPage = false) {
  return {
    data: {
      posts: {
        __typename: "PostConnection",
        edges: ids.map((id) => ({ __typename: "PostEdge", cursor: `c${id}`, node: post(id) })),
        pageInfo: { __typename: "PageInfo", hasNextPage, endCursor: ids.length ? `c${ids[ids.length - 1]}` : null },
        totalCount: ids.length,
      },
    },
  };
}

function mocks(ids: string[], variables: { tag: string | null; author: string | null }, live: object[] = []): MockLink.MockedResponse[] {
  return [
    { request: { query: FeedQuery, variables: { first: PAGE_SIZE, ...variables } }, result: page(ids), delay: 0 },
    // A live update, then silence.
    ...live.map((feed) => ({ request: { query: FeedUpdates, variables: { ...variables, after: null } }, result: { data: { feed } }, delay: 50 })),
    { request: { query: FeedUpdates, variables: { ...variables, after: null } }, result: { data: undefined }, delay: 60_000 },
  ];
}

describe("FeedPage", () => {
  it("lists published posts as articles titled by their headings", async () => {
    renderApp(<FeedPage />, { mocks: mocks(["1", "2"], { tag: null, author: null }) });
    const feed = await screen.findByRole("list", { name: "Feed" });
    const articles = within(feed).getAllByRole("article");
    expect(articles).toHaveLength(2);
    expect(within(articles[0]!).getByRole("heading")).toHaveTextContent("Post 1");
  });

  it("keeps the filters of the URL and says when nothing matches", async () => {
    renderApp(<FeedPage />, { route: "/?tag=rare", mocks: mocks([], { tag: "rare", author: null }) });
    expect(await screen.findByText("No posts here yet.")).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Tag" })).toHaveValue("rare");
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("#rare");
  });

  it("shows a new post behind a pill instead of moving the list", async () => {
    const added = { __typename: "FeedUpdate", change: "ADDED", position: "42", post: post("9", { title: "Fresh" }) };
    renderApp(<FeedPage />, { mocks: mocks(["1"], { tag: null, author: null }, [added]) });
    const pill = await screen.findByRole("button", { name: "1 new posts" });
    const feed = screen.getByRole("list", { name: "Feed" });
    expect(within(feed).getAllByRole("article")).toHaveLength(1);
    pill.click();
    expect(await within(feed).findByRole("heading", { name: "Fresh" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /new posts/ })).not.toBeInTheDocument();
  });

  it("shows the feed as of a time from the log's position then, marked as the past", async () => {
    const at = "2026-03-01T12:30:15.000Z";
    const past = { ...page(["1"]).data, headPosition: "40" };
    renderApp(<FeedPage />, {
      route: `/?at=${encodeURIComponent(at)}`,
      mocks: [
        { request: { query: PositionAtQuery, variables: { time: at } }, result: { data: { positionAt: "7" } }, delay: 0 },
        { request: { query: PastFeedQuery, variables: { first: PAGE_SIZE, tag: null, author: null, asOf: "7" } }, result: { data: past }, delay: 0 },
      ],
    });
    const feed = await screen.findByRole("list", { name: "Feed" });
    expect(within(feed).getByRole("heading")).toHaveTextContent("Post 1");
    const note = screen.getByRole("note", { name: "Viewing the past" });
    expect(note).toHaveTextContent(new Date(at).toLocaleString());
    expect(note).toHaveTextContent("(log position 7)");
    expect(within(note).getByRole("link", { name: "Back to now" })).toHaveAttribute("href", "/");
    // The control shows the chosen instant in the member's local time (read back as local time).
    const input = screen.getByLabelText<HTMLInputElement>("As of date and time (your local time)");
    expect(new Date(input.value).toISOString()).toBe(at);
  });

  it("reads a time in the address that is no time as now", async () => {
    renderApp(<FeedPage />, { route: "/?at=yesterday", mocks: mocks(["1"], { tag: null, author: null }) });
    expect(await screen.findByRole("list", { name: "Feed" })).toBeInTheDocument();
    expect(screen.queryByRole("note", { name: "Viewing the past" })).not.toBeInTheDocument();
  });

  it("keeps the moment looked at when the feed is filtered", async () => {
    const past = { ...page(["1"]).data, headPosition: "40" };
    const filtered = { ...page(["2"]).data, headPosition: "40" };
    renderApp(<FeedPage />, {
      route: "/?asOf=7",
      mocks: [
        { request: { query: PastFeedQuery, variables: { first: PAGE_SIZE, tag: null, author: null, asOf: "7" } }, result: { data: past }, delay: 0 },
        { request: { query: PastFeedQuery, variables: { first: PAGE_SIZE, tag: "news", author: null, asOf: "7" } }, result: { data: filtered }, delay: 0 },
      ],
    });
    await screen.findByRole("heading", { name: "Post 1" });
    await userEvent.type(screen.getByRole("textbox", { name: "Tag" }), "news");
    await userEvent.click(screen.getByRole("button", { name: "Filter" }));
    expect(await screen.findByRole("heading", { name: "Post 2" })).toBeInTheDocument();
    expect(screen.getByRole("note", { name: "Viewing the past" })).toHaveTextContent("position 7");
    expect(screen.getByRole("link", { name: "Clear filters" })).toHaveAttribute("href", "/?asOf=7");
  });
});
