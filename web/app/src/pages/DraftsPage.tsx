import { useQuery } from "@apollo/client/react";
import { Link } from "react-router";
import { ErrorMessage, Loading } from "../components/ErrorMessage";
import { PostCard } from "../components/PostCard";
import { graphql } from "../gql";

const MyDrafts = graphql(`
  query MyDrafts {
    posts(first: 100, status: DRAFT) {
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
  }
`);

export function DraftsPage() {
  const { data, loading, error } = useQuery(MyDrafts, { fetchPolicy: "cache-and-network" });
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
      {data && data.posts.edges.length > 0 && (
        <ol className="feed" aria-label="Drafts">
          {data.posts.edges.map(({ node }) => (
            <li key={node.id}>
              <PostCard post={node} />
            </li>
          ))}
        </ol>
      )}
    </>
  );
}
