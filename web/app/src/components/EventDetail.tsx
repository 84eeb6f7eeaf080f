import { useState } from "react";
import { Link } from "react-router";
import type { LogEvent } from "../hooks/logBuffer";

/** Where a stream lives in the app, by its type (and, for a comment, its post). */
export function streamLinks(event: LogEvent): { to: string; label: string }[] {
  const data = (event.data ?? {}) as Record<string, unknown>;
  if (event.streamType === "Post") {
    return [
      { to: `/posts/${event.streamId}`, label: "Open the post" },
      { to: `/posts/${event.streamId}/history`, label: "The post's history" },
    ];
  }
  if (event.streamType === "Comment" && typeof data.postId === "string") {
    return [{ to: `/posts/${data.postId}`, label: "Open the commented post" }];
  }
  return [];
}

export function EventDetail({ event, onClose }: { event: LogEvent; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(event.id);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  }
  const metadata = {
    position: event.position,
    streamId: event.streamId,
    streamType: event.streamType,
    version: event.version,
    schemaVersion: event.schemaVersion,
    occurredAt: event.occurredAt,
    actorId: event.actorId ?? null,
    correlationId: event.correlationId ?? null,
    causationId: event.causationId ?? null,
  };
  return (
    <section className="event-detail card" aria-label="Event detail">
      <header className="event-detail-head">
        <h2>{event.type}</h2>
        <button type="button" onClick={onClose} aria-label="Close the event detail">
          ×
        </button>
      </header>
      <p className="event-id">
        <code>{event.id}</code>{" "}
        <button type="button" onClick={() => void copy()}>
          {copied ? "Copied" : "Copy id"}
        </button>
      </p>
      <p className="muted">
        #{event.position} · v{event.version} of {event.streamType} stream ·{" "}
        <time dateTime={event.occurredAt} title={event.occurredAt}>
          {new Date(event.occurredAt).toLocaleString()}
        </time>
      </p>
      <pre className="json" aria-label="Event data">
        {JSON.stringify(event.data, null, 2)}
      </pre>
      <details>
        <summary>Metadata</summary>
        <pre className="json">{JSON.stringify(metadata, null, 2)}</pre>
      </details>
      <ul className="stream-links">
        <li>
          <Link to={`/log?stream=${encodeURIComponent(event.streamId)}`}>Only this stream in the log</Link>
        </li>
        {streamLinks(event).map((link) => (
          <li key={link.to}>
            <Link to={link.to}>{link.label}</Link>
          </li>
        ))}
      </ul>
    </section>
  );
}
