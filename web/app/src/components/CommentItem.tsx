import { graphql } from "../gql";
import type { Comment_CommentFragment } from "../gql/graphql";

export const CommentFragment = graphql(`
  fragment Comment_comment on Comment {
    id
    postId
    body
    createdAt
    editedAt
    author {
      id
      username
      displayName
    }
  }
`);

export function CommentItem({ comment }: { comment: Comment_CommentFragment }) {
  return (
    <li className="comment">
      <p className="byline">
        <strong>{comment.author.displayName}</strong>
        {" · "}
        <time dateTime={comment.createdAt}>{new Date(comment.createdAt).toLocaleString()}</time>
      </p>
      <p className="comment-body">{comment.body}</p>
    </li>
  );
}
