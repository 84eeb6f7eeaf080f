import { diffWords, type Change } from "diff";

export interface Version {
  version: number;
  title: string;
  body: string;
  tags: string[];
  status: string;
}

export type DiffMode = "split" | "inline";

/** The fields of a version as one text, so a single word diff covers them all. */
function asText(state: Version): { label: string; text: string }[] {
  return [
    { label: "Title", text: state.title },
    { label: "Body", text: state.body },
    { label: "Tags", text: state.tags.join(", ") },
    { label: "Status", text: state.status.toLowerCase() },
  ];
}

export function wordDiff(before: string, after: string): Change[] {
  return diffWords(before, after);
}

/** A word-level diff between two versions of a post, inline or side by side. */
export function VersionDiff({ from, to, mode }: { from: Version; to: Version; mode: DiffMode }) {
  const before = asText(from);
  const after = asText(to);
  const fields = before.map((field, index) => ({ label: field.label, changes: wordDiff(field.text, after[index]?.text ?? "") }));
  const changed = fields.filter((field) => field.changes.some((change) => change.added || change.removed));
  return (
    <div className={`diff diff-${mode}`} aria-label={`Changes from version ${from.version} to version ${to.version}`} role="group">
      {changed.length === 0 && <p className="muted">No differences between version {from.version} and version {to.version}.</p>}
      {changed.map((field) => (
        <section key={field.label} className="diff-field">
          <h4>{field.label}</h4>
          {mode === "inline" ? (
            <p className="diff-text">{field.changes.map(render)}</p>
          ) : (
            <div className="diff-columns">
              <p className="diff-text" aria-label={`Version ${from.version}`}>
                {field.changes.filter((change) => !change.added).map(render)}
              </p>
              <p className="diff-text" aria-label={`Version ${to.version}`}>
                {field.changes.filter((change) => !change.removed).map(render)}
              </p>
            </div>
          )}
        </section>
      ))}
    </div>
  );
}

function render(change: Change, index: number) {
  if (change.added) return <ins key={index}>{change.value}</ins>;
  if (change.removed) return <del key={index}>{change.value}</del>;
  return <span key={index}>{change.value}</span>;
}
