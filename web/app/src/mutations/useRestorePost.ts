import { useMutation } from "@apollo/client/react";
import { graphql } from "../gql";

export const RestorePost = graphql(`
  mutation RestorePost($id: ID!, $version: Int!, $expectedVersion: Int) {
    restorePost(id: $id, version: $version, expectedVersion: $expectedVersion) {
      position
      post {
        ...PostCard_post
      }
    }
  }
`);

/** Restoring appends a new event: the post's history is read again afterwards. */
export function useRestorePost() {
  return useMutation(RestorePost, { refetchQueries: ["PostHistory"], awaitRefetchQueries: true });
}
