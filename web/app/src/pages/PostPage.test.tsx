import type { MockLink } from "@apollo/client/testing";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { Session } from "../apollo/session";
import { LikePost } from "../mutations/useLikeMutation";
import { post, renderApp } from "../test/render";
import { CommentAdded, PostChanged, PostPage, PostQuery } from "./PostPage";

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
      silent(PostChanged, { id: "7" }),
      silent(CommentAdded, { postId: "7" }),
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
      silent(PostChanged, { id: "7" }),
      silent(CommentAdded, { postId: "7" }),
    ];
    renderApp(<PostPage />, { mocks, path: "/posts/:id", route: "/posts/7", session: signedIn() });
    expect(await screen.findByRole("textbox", { name: "Comment" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Add comment" })).toBeDisabled();
    expect(screen.getByText("No comments yet.")).toBeInTheDocument();
  });

  it("says when a post does not exist, without asking again and again", async () => {
    const mocks: MockLink.MockedResponse[] = [
      { request: { query: PostQuery, variables: { id: "404" } }, result: { data: { post: null } }, delay: 0 },
      silent(PostChanged, { id: "404" }),
      silent(CommentAdded, { postId: "404" }),
    ];
    renderApp(<PostPage />, { mocks, path: "/posts/:id", route: "/posts/404" });
    expect(await screen.findByRole("heading", { name: "Post not found" })).toBeInTheDocument();
  });
});
