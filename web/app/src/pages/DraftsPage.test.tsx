import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { post, renderApp } from "../test/render";
import { DRAFTS_PAGE_SIZE, DraftsPage, MyDrafts } from "./DraftsPage";

function page(ids: string[], hasNextPage: boolean) {
  const drafts = ids.map((id) => ({ __typename: "PostEdge", cursor: `c${id}`, node: post(id, { status: "DRAFT" }) }));
  return {
    data: {
      posts: {
        __typename: "PostConnection",
        edges: drafts,
        pageInfo: { __typename: "PageInfo", hasNextPage, endCursor: `c${ids[ids.length - 1]}` },
        totalCount: 3,
      },
    },
  };
}

const first = { request: { query: MyDrafts, variables: { first: DRAFTS_PAGE_SIZE } }, result: page(["1"], true), delay: 0 };
const after = (cursor: string) => ({ query: MyDrafts, variables: { first: DRAFTS_PAGE_SIZE, after: cursor } });

describe("DraftsPage", () => {
  it("loads the drafts past the first page on demand", async () => {
    renderApp(<DraftsPage />, {
      mocks: [first, { request: after("c1"), result: page(["2", "3"], false), delay: 0 }],
    });
    const drafts = await screen.findByRole("list", { name: "Drafts" });
    expect(within(drafts).getAllByRole("article")).toHaveLength(1);
    await userEvent.click(screen.getByRole("button", { name: "Load more posts" }));
    expect(await within(drafts).findByRole("heading", { name: "Post 3" })).toBeInTheDocument();
    expect(within(drafts).getAllByRole("article")).toHaveLength(3);
    expect(screen.queryByRole("button", { name: "Load more posts" })).not.toBeInTheDocument();
  });

  it("says when the next page failed, and lets the member try again", async () => {
    const failure = { errors: [new GraphQLError("the database is away", { extensions: { code: "INTERNAL" } })] };
    renderApp(<DraftsPage />, {
      mocks: [
        first,
        { request: after("c1"), result: failure, delay: 0 },
        { request: after("c1"), result: page(["2"], false), delay: 0 },
      ],
    });
    const drafts = await screen.findByRole("list", { name: "Drafts" });
    await userEvent.click(screen.getByRole("button", { name: "Load more posts" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("More posts could not be loaded.");
    await userEvent.click(screen.getByRole("button", { name: "Load more posts" }));
    expect(await within(drafts).findByRole("heading", { name: "Post 2" })).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });
});
