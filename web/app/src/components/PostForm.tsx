import { useEffect, useRef, type FormEvent, type ReactNode } from "react";
import { Field } from "./Field";

export interface PostDraft {
  title: string;
  body: string;
  tags: string;
}

export function parseTags(tags: string): string[] {
  return tags
    .split(/[,\s]+/)
    .map((tag) => tag.trim().replace(/^#/, ""))
    .filter(Boolean);
}

interface Props {
  draft: PostDraft;
  onChange: (next: Partial<PostDraft>) => void;
  /** Messages per field, from the server's BAD_USER_INPUT errors (`extensions.field`). */
  fieldErrors: Record<string, string>;
  onSubmit: (intent: string) => void;
  busy: boolean;
  actions: { intent: string; label: string; primary?: boolean }[];
  children?: ReactNode;
}

/** Title, body and tags; each field shows the server's message about it. */
export function PostForm({ draft, onChange, fieldErrors, onSubmit, busy, actions, children }: Props) {
  const form = useRef<HTMLFormElement>(null);
  // After a refused submit, the keyboard goes to the first field to correct.
  useEffect(() => {
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [fieldErrors]);
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    onSubmit(submitter?.value ?? actions[0]?.intent ?? "");
  }
  return (
    <form className="post-form card" onSubmit={submit} noValidate ref={form}>
      <Field id="post-title" label="Title" error={fieldErrors.title}>
        {(props) => <input {...props} value={draft.title} onChange={(e) => onChange({ title: e.target.value })} />}
      </Field>
      <Field id="post-body" label="Body" error={fieldErrors.body}>
        {(props) => <textarea {...props} rows={12} value={draft.body} onChange={(e) => onChange({ body: e.target.value })} />}
      </Field>
      <Field id="post-tags" label="Tags" error={fieldErrors.tags} hint="Separated by commas or spaces, e.g. news, python">
        {(props) => <input {...props} value={draft.tags} onChange={(e) => onChange({ tags: e.target.value })} />}
      </Field>
      {children}
      <div className="form-actions">
        {actions.map((action) => (
          <button key={action.intent} type="submit" name="intent" value={action.intent} className={action.primary ? "primary" : undefined} disabled={busy}>
            {action.label}
          </button>
        ))}
      </div>
    </form>
  );
}
