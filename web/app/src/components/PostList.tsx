import type { Ref } from "react";
import { graphql } from "../gql";
import type { PostList_PostsFragment } from "../gql/graphql";
import type { Paging } from "../hooks/useLoadMore";
import { ErrorMessage } from "./ErrorMessage";
import { PostCard } from "./PostCard";

/** A page of posts as every listing asks for it: the feed, the past feed, the drafts. */
export const PostListFragment = graphql(`
  fragment PostList_posts on PostConnection {
    edges {
      cursor
      node {
        ...PostCard_post
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
    totalCount
  }
`);

export function PostList({ edges, label, ref }: { edges: PostList_PostsFragment["edges"]; label: string; ref?: Ref<HTMLOListElement> }) {
  return (
    <ol className="feed" aria-label={label} ref={ref}>
      {edges.map(({ node }) => (
        <li key={node.id}>
          <PostCard post={node} />
        </li>
      ))}
    </ol>
  );
}

/** The next page on demand, and why it did not come. */
export function LoadMorePosts({ paging }: { paging: Paging }) {
  return (
    <>
      <ErrorMessage error={paging.error} title="More posts could not be loaded." />
      {paging.hasMore && (
        <button type="button" className="load-more" onClick={() => void paging.loadMore()} disabled={paging.loading}>
          {paging.loading ? "Loading more…" : "Load more posts"}
        </button>
      )}
    </>
  );
}
