import { useMutation } from "@apollo/client/react";
import { graphql } from "../gql";

export const LikePost = graphql(`
  mutation LikePost($id: ID!) {
    likePost(id: $id) {
      position
      post {
        id
        likeCount
        likedByMe
      }
    }
  }
`);

const UnlikePost = graphql(`
  mutation UnlikePost($id: ID!) {
    unlikePost(id: $id) {
      position
      post {
        id
        likeCount
        likedByMe
      }
    }
  }
`);

/** Like or unlike at once (optimistic); Apollo rolls the cache back if it fails. */
export function useLikeMutation() {
  const [like, likeState] = useMutation(LikePost);
  const [unlike, unlikeState] = useMutation(UnlikePost);
  function toggle(post: { id: string; likeCount: number; likedByMe: boolean }) {
    const optimistic = {
      __typename: "PostPayload" as const,
      position: "0",
      post: {
        __typename: "Post" as const,
        id: post.id,
        likedByMe: !post.likedByMe,
        likeCount: Math.max(0, post.likeCount + (post.likedByMe ? -1 : 1)),
      },
    };
    return post.likedByMe
      ? unlike({ variables: { id: post.id }, optimisticResponse: { unlikePost: optimistic } })
      : like({ variables: { id: post.id }, optimisticResponse: { likePost: optimistic } });
  }
  return { toggle, error: likeState.error ?? unlikeState.error };
}
