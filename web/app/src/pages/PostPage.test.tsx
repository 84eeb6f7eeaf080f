import type { MockLink } from "@apollo/client/testing";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { Session } from "../apollo/session";
import { LikePost } from "../mutations/useLikeMutation";
import { post, renderApp } from "../test/render";
import { CommentAdded, MoreComments, PostChanged, PostPage, PostQuery } from "./PostPage";

const silent = (query: unknown, variables: object): MockLink.MockedResponse => ({
  request: { query: query as MockLink.MockedResponse["request"]["query"], variables },
  result: { data: undefined },
  delay: 60_000,
});

function signedIn() {
  const session = new Session(null);
  session.signIn("token", { id: "u2", username: "bob", displayName: "Bob" });
  return session;
}

const postResult = {
  data: {
    headPosition: "12",
    post: {
      ...post("7", { title: "A post to like", likeCount: 3 }),
      comments: {
        __typename: "CommentConnection",
        edges: [],
        pageInfo: { __typename: "PageInfo", hasNextPage: false, endCursor: null },
        totalCount: 0,
      },
    },
  },
};

describe("PostPage", () => {
  it("likes at once and rolls back when the server refuses", async () => {
    const mocks: MockLink.MockedResponse[] = [
      { request: { query: PostQuery, variables: { id: "7" } }, result: postResult, delay: 0 },
      silent(PostChanged, { id: "7", after: null }),
      silent(CommentAdded, { postId: "7", after: null }),
      { request: { query: LikePost, variables: { id: "7" } }, result: { errors: [new GraphQLError("nope", { extensions: { code: "INTERNAL" } })] }, delay: 100 },
    ];
    renderApp(<PostPage />, { mocks, path: "/posts/:id", route: "/posts/7", session: signedIn() });
    const like = await screen.findByRole("button", { name: "Like" });
    expect(like).toHaveAttribute("aria-pressed", "false");
    await userEvent.click(like);
    expect(like).toHaveAttribute("aria-pressed", "true");
    expect(screen.getByText("4 likes")).toBeInTheDocument();
    expect(await screen.findByRole("alert")).toHaveTextContent("The like was not saved.");
    expect(like).toHaveAttribute("aria-pressed", "false");
    expect(screen.getByText("3 likes")).toBeInTheDocument();
  });

  it("offers the comment field and button to members", async () => {
    const mocks: MockLink.MockedResponse[] = [
      { request: { query: PostQuery, variables: { id: "7" } }, result: postResult, delay: 0 },
      silent(PostChanged, { id: "7", after: null }),
      silent(CommentAdded, { postId: "7", after: null }),
    ];
    renderApp(<PostPage />, { mocks, path: "/posts/:id", route: "/posts/7", session: signedIn() });
    expect(await screen.findByRole("textbox", { name: "Comment" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Add comment" })).toBeDisabled();
    expect(screen.getByText("No comments yet.")).toBeInTheDocument();
  });

  it("says when a post does not exist, without asking again and again", async () => {
    const mocks: MockLink.MockedResponse[] = [
      { request: { query: PostQuery, variables: { id: "404" } }, result: { data: { headPosition: "12", post: null } }, delay: 0 },
      silent(PostChanged, { id: "404", after: null }),
      silent(CommentAdded, { postId: "404", after: null }),
    ];
    renderApp(<PostPage />, { mocks, path: "/posts/:id", route: "/posts/404" });
    expect(await screen.findByRole("heading", { name: "Post not found" })).toBeInTheDocument();
  });

  it("shows more comments on request, after the ones it has", async () => {
    const comment = (id: string) => ({
      __typename: "CommentEdge",
      cursor: `c${id}`,
      node: {
        __typename: "Comment", id, postId: "7", body: `Comment ${id}`, createdAt: "2026-01-01T00:00:00Z", editedAt: null,
        author: { __typename: "User", id: "u1", username: "ada", displayName: "Ada" },
      },
    });
    const first = {
      data: {
        headPosition: "12",
        post: {
          ...postResult.data.post,
          comments: { __typename: "CommentConnection", edges: [comment("1")], pageInfo: { __typename: "PageInfo", hasNextPage: true, endCursor: "c1" }, totalCount: 2 },
        },
      },
    };
    const next = {
      data: {
        post: {
          __typename: "Post", id: "7",
          comments: { __typename: "CommentConnection", edges: [comment("2")], pageInfo: { __typename: "PageInfo", hasNextPage: false, endCursor: "c2" }, totalCount: 2 },
        },
      },
    };
    const mocks: MockLink.MockedResponse[] = [
      { request: { query: PostQuery, variables: { id: "7" } }, result: first, delay: 0 },
      { request: { query: MoreComments, variables: { id: "7", after: "c1" } }, result: next, delay: 0 },
      silent(PostChanged, { id: "7", after: null }),
      silent(CommentAdded, { postId: "7", after: null }),
    ];
    renderApp(<PostPage />, { mocks, path: "/posts/:id", route: "/posts/7" });
    await userEvent.click(await screen.findByRole("button", { name: "Show more comments" }));
    expect(await screen.findByText("Comment 2")).toBeInTheDocument();
    expect(screen.getByText("Comment 1")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Show more comments" })).not.toBeInTheDocument();
  });
});
