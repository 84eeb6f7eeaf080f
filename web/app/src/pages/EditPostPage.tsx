import { useQuery } from "@apollo/client/react";
import { useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { ErrorMessage, Loading } from "../components/ErrorMessage";
import { parseTags, PostForm, type PostDraft } from "../components/PostForm";
import { describe, hasCode } from "../errors";
import type { PostCard_PostFragment } from "../gql/graphql";
import { useDraft } from "../hooks/useDraft";
import { useEditPost, usePublishPost } from "../mutations/usePostMutations";
import { PostQuery } from "./PostPage";

export function EditPostPage() {
  const { id = "" } = useParams();
  const { data, loading, error, refetch } = useQuery(PostQuery, { variables: { id } });
  if (loading && !data) return <Loading label="Loading the post…" />;
  if (error && !data) return <ErrorMessage error={error} title="The post could not be loaded." />;
  if (!data?.post) {
    return (
      <div className="empty card">
        <h1>Post not found</h1>
        <Link to="/">Back to the feed</Link>
      </div>
    );
  }
  return <EditForm post={data.post} refresh={() => refetch()} />;
}

function EditForm({ post, refresh }: { post: PostCard_PostFragment; refresh: () => Promise<unknown> }) {
  const navigate = useNavigate();
  // The draft remembers the version it was based on: that is the expectedVersion.
  const [draft, setDraft, clearDraft] = useDraft<PostDraft & { baseVersion: number }>(`chronicle.edit.${post.id}`, {
    title: post.title,
    body: post.body,
    tags: post.tags.join(", "),
    baseVersion: post.version,
  });
  const [editPost, editing] = useEditPost();
  const [publishPost, publishing] = usePublishPost();
  const [error, setError] = useState<unknown>(null);
  const report = useMemo(() => describe(error), [error]);
  const conflict = hasCode(error, "CONFLICT");

  async function submit(intent: string) {
    setError(null);
    try {
      const { data } = await editPost({
        variables: {
          input: { id: post.id, title: draft.title, body: draft.body, tags: parseTags(draft.tags), expectedVersion: draft.baseVersion },
        },
      });
      if (intent === "publish" && data) {
        await publishPost({ variables: { id: post.id, expectedVersion: data.editPost.post.version } });
      }
      clearDraft();
      navigate(`/posts/${post.id}`);
    } catch (e) {
      // On a conflict, read the newer version to show it beside the kept text.
      if (hasCode(e, "CONFLICT")) await refresh().catch(() => undefined);
      setError(e);
    }
  }

  return (
    <>
      <h1 className="page-title">Edit post</h1>
      {conflict && (
        <div role="alert" className="notice notice-warning conflict">
          <p>
            <strong>This post changed meanwhile.</strong> You started from version {draft.baseVersion}; it is now at version{" "}
            {post.version}. Your text is kept below and nothing was saved.
          </p>
          <details open>
            <summary>The newer version</summary>
            <p>
              <strong>{post.title}</strong>
            </p>
            <p className="pre">{post.body}</p>
            {post.tags.length > 0 && <p>Tags: {post.tags.join(", ")}</p>}
          </details>
          <div className="form-actions">
            <button
              type="button"
              onClick={() => {
                setDraft({ baseVersion: post.version });
                setError(null);
              }}
            >
              Keep my text over the newer version
            </button>
            <button
              type="button"
              onClick={() => {
                setDraft({ title: post.title, body: post.body, tags: post.tags.join(", "), baseVersion: post.version });
                setError(null);
              }}
            >
              Start again from the newer version
            </button>
          </div>
        </div>
      )}
      <PostForm
        draft={draft}
        onChange={setDraft}
        fieldErrors={report.fields}
        onSubmit={(intent) => void submit(intent)}
        busy={editing.loading || publishing.loading}
        actions={
          post.status === "DRAFT"
            ? [
                { intent: "publish", label: "Publish", primary: true },
                { intent: "save", label: "Save draft" },
              ]
            : [{ intent: "save", label: "Save changes", primary: true }]
        }
      >
        {Boolean(error) && !conflict && report.general.length > 0 && <ErrorMessage error={error} title="Not saved; your text is kept." />}
      </PostForm>
    </>
  );
}
