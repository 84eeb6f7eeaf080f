import { describe } from "../errors";

export function ErrorMessage({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const { general, fields } = describe(error);
  const messages = general.length ? general : Object.values(fields);
  return (
    <div role="alert" className="notice notice-error">
      {title && <strong>{title} </strong>}
      {messages.join(" ")}
    </div>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      {label}
    </p>
  );
}
