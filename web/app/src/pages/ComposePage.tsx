import { useMemo, useState } from "react";
import { useNavigate } from "react-router";
import { ErrorMessage } from "../components/ErrorMessage";
import { parseTags, PostForm, type PostDraft } from "../components/PostForm";
import { describe } from "../errors";
import { useDraft } from "../hooks/useDraft";
import { useCreatePost } from "../mutations/usePostMutations";

export const NEW_POST_DRAFT = "chronicle.draft.new";

export function ComposePage() {
  const navigate = useNavigate();
  const [draft, setDraft, clearDraft] = useDraft<PostDraft & { key: string; keyFor: string }>(NEW_POST_DRAFT, {
    title: "",
    body: "",
    tags: "",
    key: "",
    keyFor: "",
  });
  const [createPost, { loading }] = useCreatePost();
  const [error, setError] = useState<unknown>(null);
  const report = useMemo(() => describe(error), [error]);

  async function submit(intent: string) {
    setError(null);
    const input = { title: draft.title, body: draft.body, tags: parseTags(draft.tags), publish: intent === "publish" };
    // One key per input: a retry of a request that failed midway returns the
    // first result instead of posting twice; changed input gets a new key.
    const keyFor = JSON.stringify(input);
    const key = draft.key && draft.keyFor === keyFor ? draft.key : crypto.randomUUID();
    setDraft({ key, keyFor });
    try {
      const { data } = await createPost({ variables: { input: { ...input, idempotencyKey: key } } });
      if (!data) return;
      clearDraft();
      navigate(`/posts/${data.createPost.post.id}`);
    } catch (e) {
      setError(e);
    }
  }

  return (
    <>
      <h1 className="page-title">New post</h1>
      <PostForm
        draft={draft}
        onChange={setDraft}
        fieldErrors={report.fields}
        onSubmit={(intent) => void submit(intent)}
        busy={loading}
        actions={[
          { intent: "publish", label: "Publish", primary: true },
          { intent: "draft", label: "Save draft" },
        ]}
      >
        {Boolean(error) && report.general.length > 0 && <ErrorMessage error={error} title="The post was not saved; your text is kept." />}
        {Boolean(error) && report.general.length === 0 && (
          <p role="alert" className="notice notice-error">
            Please correct the fields marked above; your text is kept.
          </p>
        )}
      </PostForm>
    </>
  );
}
