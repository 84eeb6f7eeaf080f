import { Link } from "react-router";
import { graphql } from "../gql";
import type { PostCard_PostFragment } from "../gql/graphql";
import { Tags } from "./Tags";

export const PostCardFragment = graphql(`
  fragment PostCard_post on Post {
    id
    title
    body
    tags
    status
    version
    createdAt
    updatedAt
    publishedAt
    likeCount
    likedByMe
    commentCount
    author {
      id
      username
      displayName
    }
  }
`);

export function excerpt(body: string, length = 220): string {
  return body.length > length ? `${body.slice(0, length).trimEnd()}…` : body;
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

export function PostCard({ post }: { post: PostCard_PostFragment }) {
  const headingId = `post-${post.id}-title`;
  return (
    <article className="card post-card" aria-labelledby={headingId}>
      <h2 id={headingId} className="post-card-title">
        <Link to={`/posts/${post.id}`}>{post.title}</Link>
      </h2>
      <p className="byline">
        by <Link to={`/?author=${encodeURIComponent(post.author.username)}`}>{post.author.displayName}</Link>
        {post.publishedAt && (
          <>
            {" · "}
            <time dateTime={post.publishedAt}>{new Date(post.publishedAt).toLocaleString()}</time>
          </>
        )}
      </p>
      <p className="excerpt">{excerpt(post.body)}</p>
      <footer className="post-card-footer">
        <Tags tags={post.tags} />
        <span className="counts">
          <span>{plural(post.likeCount, "like")}</span>
          <span>{plural(post.commentCount, "comment")}</span>
        </span>
      </footer>
    </article>
  );
}
