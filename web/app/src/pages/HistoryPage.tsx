import { useQuery } from "@apollo/client/react";
import { useState } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { ErrorMessage, Loading } from "../components/ErrorMessage";
import { Tags } from "../components/Tags";
import { VersionDiff, type DiffMode, type Version } from "../components/VersionDiff";
import { VersionSlider } from "../components/VersionSlider";
import { graphql } from "../gql";
import { useSession } from "../hooks/useSession";
import { useRestorePost } from "../mutations/useRestorePost";

export const PostHistoryQuery = graphql(`
  query PostHistory($id: ID!) {
    post(id: $id) {
      id
      title
      version
      status
      author {
        id
        username
        displayName
      }
      history {
        id
        position
        version
        type
        occurredAt
        actorId
      }
    }
  }
`);

export const PostAtQuery = graphql(`
  query PostAt($id: ID!, $version: Int!) {
    postAt(id: $id, version: $version) {
      id
      version
      title
      body
      tags
      status
      deleted
      asOf
    }
  }
`);

/** An event type as words: PostEdited → "Post edited". */
export function humanType(type: string): string {
  const words = type.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function HistoryPage() {
  const { id = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const { user } = useSession();
  const { data, error, loading } = useQuery(PostHistoryQuery, { variables: { id }, fetchPolicy: "cache-and-network" });
  const post = data?.post;
  const latest = post?.version ?? 1;
  const asked = Number(params.get("v"));
  const version = Number.isInteger(asked) && asked >= 1 && asked <= latest ? asked : latest;

  function show(next: number) {
    const nextParams = new URLSearchParams(params);
    nextParams.set("v", String(next));
    setParams(nextParams, { replace: true });
  }

  if (loading && !data) return <Loading label="Loading the history…" />;
  if (error && !data) return <ErrorMessage error={error} title="The history could not be loaded." />;
  if (!post) {
    return (
      <div className="empty card">
        <h1>Post not found</h1>
        <p>It may have been deleted, or it is not visible to you.</p>
        <Link to="/">Back to the feed</Link>
      </div>
    );
  }
  const who = (actorId: string | null | undefined) =>
    !actorId ? "the system" : actorId === user?.id ? "you" : actorId === post.author.id ? post.author.displayName : `member ${actorId.slice(0, 8)}`;
  const canRestore = user?.id === post.author.id;

  return (
    <article className="history" aria-labelledby="history-title">
      <p className="breadcrumbs">
        <Link to={`/posts/${post.id}`}>← {post.title}</Link>
      </p>
      <h1 id="history-title" className="page-title">
        History
      </h1>
      <section className="card" aria-labelledby="as-it-was">
        <h2 id="as-it-was">As it was</h2>
        <VersionSlider value={version} max={latest} onChange={show} />
        <PastPost id={post.id} version={version} />
        {canRestore && version < latest && <RestoreVersion id={post.id} version={version} latest={latest} onRestored={show} />}
      </section>
      <CompareVersions id={post.id} latest={latest} version={version} />
      <section className="card" aria-labelledby="audit-trail">
        <h2 id="audit-trail">Audit trail</h2>
        <table className="audit">
          <caption className="visually-hidden">Every event of this post, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Event</th>
              <th scope="col">Who</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {post.history.map((event) => (
              <tr key={event.id} aria-current={event.version === version ? "true" : undefined}>
                <td>
                  <button type="button" className="link" onClick={() => show(event.version)}>
                    v{event.version}
                  </button>
                </td>
                <td>{humanType(event.type)}</td>
                <td>{who(event.actorId)}</td>
                <td>
                  <time dateTime={event.occurredAt} title={event.occurredAt}>
                    {new Date(event.occurredAt).toLocaleString()}
                  </time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </article>
  );
}

function usePostAt(id: string, version: number) {
  return useQuery(PostAtQuery, { variables: { id, version } });
}

function PastPost({ id, version }: { id: string; version: number }) {
  const { data, previousData, error, loading } = usePostAt(id, version);
  const state = (data ?? previousData)?.postAt;
  if (error && !state) return <ErrorMessage error={error} title="That version could not be loaded." />;
  if (!loading && data && !data.postAt) return <NotVisible version={version} />;
  if (!state) return <Loading label="Loading the version…" />;
  return (
    <div className="past-post" aria-label={`Version ${state.version}`} role="region">
      <p className="muted">
        Version {state.version} · {state.status.toLowerCase()}
        {state.deleted ? " · deleted" : ""} · as of{" "}
        <time dateTime={state.asOf} title={state.asOf}>
          {new Date(state.asOf).toLocaleString()}
        </time>
      </p>
      <h3 className="past-title">{state.title}</h3>
      <div className="post-body">
        {state.body.split(/\n{2,}/).map((paragraph, index) => (
          <p key={index}>{paragraph}</p>
        ))}
      </div>
      <Tags tags={state.tags} />
    </div>
  );
}

function CompareVersions({ id, latest, version }: { id: string; latest: number; version: number }) {
  const [pair, setPair] = useState<{ from: number; to: number } | null>(null);
  const [mode, setMode] = useState<DiffMode>("inline");
  // Until the reader picks, the diff follows the slider: the version before it against it.
  const from = pair?.from ?? Math.max(1, version - 1);
  const to = pair?.to ?? version;
  const options = Array.from({ length: latest }, (_, index) => index + 1);
  return (
    <section className="card" aria-labelledby="compare-title">
      <h2 id="compare-title">Compare versions</h2>
      <div className="compare-controls">
        <label>
          From
          <select value={from} onChange={(event) => setPair({ from: Number(event.target.value), to })}>
            {options.map((n) => (
              <option key={n} value={n}>
                v{n}
              </option>
            ))}
          </select>
        </label>
        <label>
          To
          <select value={to} onChange={(event) => setPair({ from, to: Number(event.target.value) })}>
            {options.map((n) => (
              <option key={n} value={n}>
                v{n}
              </option>
            ))}
          </select>
        </label>
        <div className="segmented" role="group" aria-label="Diff layout">
          <button type="button" aria-pressed={mode === "inline"} onClick={() => setMode("inline")}>
            Inline
          </button>
          <button type="button" aria-pressed={mode === "split"} onClick={() => setMode("split")}>
            Split
          </button>
        </div>
      </div>
      <DiffOf id={id} from={from} to={to} mode={mode} />
    </section>
  );
}

function DiffOf({ id, from, to, mode }: { id: string; from: number; to: number; mode: DiffMode }) {
  const a = usePostAt(id, from);
  const b = usePostAt(id, to);
  const error = a.error ?? b.error;
  if (error) return <ErrorMessage error={error} title="The versions could not be compared." />;
  if ((a.data && !a.data.postAt) || (b.data && !b.data.postAt)) return <NotVisible version={a.data?.postAt ? to : from} />;
  const before: Version | undefined = a.data?.postAt ?? undefined;
  const after: Version | undefined = b.data?.postAt ?? undefined;
  if (!before || !after) return <Loading label="Comparing…" />;
  return <VersionDiff from={before} to={after} mode={mode} />;
}

function RestoreVersion({ id, version, latest, onRestored }: { id: string; version: number; latest: number; onRestored: (version: number) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [restore, { loading, error }] = useRestorePost();
  async function confirm() {
    try {
      const result = await restore({ variables: { id, version, expectedVersion: latest } });
      setConfirming(false);
      const restored = result.data?.restorePost.post.version;
      if (restored) onRestored(restored);
    } catch {
      // shown below
    }
  }
  return (
    <div className="restore">
      {!confirming ? (
        <button type="button" onClick={() => setConfirming(true)}>
          Restore this version
        </button>
      ) : (
        <div role="dialog" aria-modal="false" aria-labelledby="restore-title" className="confirm">
          <h3 id="restore-title">Restore version {version}?</h3>
          <p>
            This adds a new version ({latest + 1}) with the content of version {version}. Nothing is erased: versions 1 to {latest} stay in the
            history. These are the changes from the current version {latest}:
          </p>
          <DiffOf id={id} from={latest} to={version} mode="inline" />
          <div className="actions">
            <button type="button" className="primary" onClick={() => void confirm()} disabled={loading}>
              {loading ? "Restoring…" : `Restore version ${version}`}
            </button>
            <button type="button" onClick={() => setConfirming(false)} disabled={loading}>
              Cancel
            </button>
          </div>
          <ErrorMessage error={error} title="The version was not restored." />
        </div>
      )}
    </div>
  );
}

/** postAt is null for a version the reader may not see (a draft, unless it is theirs). */
function NotVisible({ version }: { version: number }) {
  return (
    <p className="notice notice-warning">
      Version {version} is not visible to you: the post was not published then. Its author can see it.
    </p>
  );
}
