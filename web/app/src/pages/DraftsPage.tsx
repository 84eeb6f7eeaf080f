import { useQuery } from "@apollo/client/react";
import { useCallback } from "react";
import { Link } from "react-router";
import { ErrorMessage, Loading } from "../components/ErrorMessage";
import { LoadMorePosts, PostList } from "../components/PostList";
import { graphql } from "../gql";
import { useLoadMore } from "../hooks/useLoadMore";

export const DRAFTS_PAGE_SIZE = 100;

export const MyDrafts = graphql(`
  query MyDrafts($first: Int!, $after: String) {
    posts(first: $first, after: $after, status: DRAFT) {
      ...PostList_posts
    }
  }
`);

export function DraftsPage() {
  const { data, loading, error, fetchMore } = useQuery(MyDrafts, {
    variables: { first: DRAFTS_PAGE_SIZE },
    fetchPolicy: "cache-and-network",
  });
  const fetchPage = useCallback((after: string | null) => fetchMore({ variables: { after } }), [fetchMore]);
  const paging = useLoadMore(data?.posts.pageInfo, fetchPage);
  return (
    <>
      <h1 className="page-title">Your drafts</h1>
      {loading && !data && <Loading label="Loading your drafts…" />}
      {error && !data && <ErrorMessage error={error} title="Your drafts could not be loaded." />}
      {data && data.posts.edges.length === 0 && (
        <div className="empty card">
          <p>No drafts. A post saved with “Save draft” waits here until you publish it.</p>
          <Link to="/new">New post</Link>
        </div>
      )}
      {data && data.posts.edges.length > 0 && <PostList edges={data.posts.edges} label="Drafts" />}
      <LoadMorePosts paging={paging} />
    </>
  );
}
