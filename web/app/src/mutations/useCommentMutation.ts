import type { ApolloCache, Reference } from "@apollo/client";
import { useMutation } from "@apollo/client/react";
import { graphql } from "../gql";
import type { Comment_CommentFragment } from "../gql/graphql";
import { CommentFragment } from "../components/CommentItem";

const AddComment = graphql(`
  mutation AddComment($input: AddCommentInput!) {
    addComment(input: $input) {
      position
      comment {
        ...Comment_comment
      }
    }
  }
`);

/** Appends a comment to its post's list in the cache, once (live and own writes race). */
export function appendComment(cache: ApolloCache, comment: Comment_CommentFragment): void {
  const ref = cache.writeFragment({ fragment: CommentFragment, fragmentName: "Comment_comment", data: comment });
  if (!ref) return;
  cache.modify({
    id: cache.identify({ __typename: "Post", id: comment.postId }),
    fields: {
      comments(value) {
        const existing = value as { edges: { node: Reference }[]; totalCount: number } | undefined;
        if (!existing?.edges) return value;
        if (existing.edges.some((edge) => edge.node.__ref === ref.__ref)) return existing;
        return {
          ...existing,
          edges: [...existing.edges, { __typename: "CommentEdge", cursor: "", node: ref }],
          totalCount: existing.totalCount + 1,
        };
      },
    },
  });
}

export function useCommentMutation() {
  return useMutation(AddComment, {
    update(cache, { data }) {
      if (data) appendComment(cache, data.addComment.comment);
    },
  });
}
