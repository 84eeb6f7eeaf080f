import { useMutation } from "@apollo/client/react";
import { graphql } from "../gql";

export const CreatePost = graphql(`
  mutation CreatePost($input: CreatePostInput!) {
    createPost(input: $input) {
      position
      post {
        ...PostCard_post
      }
    }
  }
`);

export const EditPost = graphql(`
  mutation EditPost($input: EditPostInput!) {
    editPost(input: $input) {
      position
      post {
        ...PostCard_post
      }
    }
  }
`);

export const PublishPost = graphql(`
  mutation PublishPost($id: ID!, $expectedVersion: Int) {
    publishPost(id: $id, expectedVersion: $expectedVersion) {
      position
      post {
        ...PostCard_post
      }
    }
  }
`);

export const ArchivePost = graphql(`
  mutation ArchivePost($id: ID!, $expectedVersion: Int) {
    archivePost(id: $id, expectedVersion: $expectedVersion) {
      position
      post {
        ...PostCard_post
      }
    }
  }
`);

export const DeletePost = graphql(`
  mutation DeletePost($id: ID!, $expectedVersion: Int) {
    deletePost(id: $id, expectedVersion: $expectedVersion) {
      id
      position
    }
  }
`);

export function useCreatePost() {
  return useMutation(CreatePost);
}

export function useEditPost() {
  return useMutation(EditPost);
}

export function usePublishPost() {
  return useMutation(PublishPost);
}

export function useArchivePost() {
  return useMutation(ArchivePost);
}

export function useDeletePost() {
  return useMutation(DeletePost, {
    update(cache, { data }) {
      if (!data) return;
      cache.evict({ id: cache.identify({ __typename: "Post", id: data.deletePost.id }) });
      cache.gc();
    },
  });
}
