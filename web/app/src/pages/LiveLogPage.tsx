import { useQuery } from "@apollo/client/react";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { EventDetail } from "../components/EventDetail";
import { graphql } from "../gql";
import { useLiveLog } from "../hooks/useLiveLog";

export const EventTypeNames = graphql(`
  query EventTypeNames {
    eventTypes {
      name
      streamType
    }
  }
`);

const ROW_HEIGHT = 36;

export function LiveLogPage() {
  const [params] = useSearchParams();
  const stream = params.get("stream") || null;
  const types = params.getAll("type").filter(Boolean);
  return (
    <>
      <h1 className="page-title">Live log</h1>
      <LogFilters stream={stream} types={types} />
      {/* A fresh log per filter: the URL is the state. */}
      <LiveLog key={`${stream ?? ""}|${types.join(",")}`} stream={stream} types={types.length ? types : null} />
    </>
  );
}

function LogFilters({ stream, types }: { stream: string | null; types: string[] }) {
  const [, setParams] = useSearchParams();
  const { data } = useQuery(EventTypeNames);
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    const type = String(form.get("type") ?? "");
    const id = String(form.get("stream") ?? "").trim();
    if (type) next.append("type", type);
    if (id) next.set("stream", id);
    setParams(next);
  }
  return (
    <form className="filters" role="search" aria-label="Filter the log" onSubmit={submit} key={`${stream}|${types.join(",")}`}>
      <label>
        Event type
        <select name="type" defaultValue={types[0] ?? ""}>
          <option value="">Any type</option>
          {data?.eventTypes.map((type) => (
            <option key={type.name} value={type.name}>
              {type.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Stream
        <input name="stream" defaultValue={stream ?? ""} placeholder="any stream id" />
      </label>
      <button type="submit">Filter</button>
      {(stream || types.length > 0) && (
        <Link to="/log" className="clear-filters">
          Clear filters
        </Link>
      )}
    </form>
  );
}

function LiveLog({ stream, types }: { stream: string | null; types: string[] | null }) {
  const { buffer, pause, resume } = useLiveLog(stream, types);
  const [selectedIndex, setSelectedIndex] = useState<number | null>(null);
  const selected = selectedIndex === null ? null : buffer.events[selectedIndex] ?? null;
  const [following, setFollowing] = useState(true);
  const scroller = useRef<HTMLDivElement>(null);
  const count = buffer.shown;
  // TanStack Virtual returns functions React Compiler cannot memoise; this
  // component is not compiled, which is what the rule reports.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });

  // Following the live end: new rows scroll into view as they are shown.
  useEffect(() => {
    if (following && count > 0) virtualizer.scrollToIndex(count - 1, { align: "end" });
  }, [following, count, virtualizer]);

  function onScroll() {
    const element = scroller.current;
    if (!element) return;
    const atEnd = element.scrollHeight - element.scrollTop - element.clientHeight < ROW_HEIGHT * 2;
    if (atEnd !== following) setFollowing(atEnd);
  }

  function jumpToLive() {
    resume();
    setFollowing(true);
    virtualizer.scrollToIndex(buffer.events.length - 1, { align: "end" });
  }

  const held = buffer.held();
  return (
    <div className="log-layout">
      <section className="live-log card" aria-label="Live log">
        <div className="log-toolbar">
          {buffer.paused ? (
            <button type="button" onClick={resume}>
              Resume
            </button>
          ) : (
            <button type="button" onClick={pause}>
              Pause
            </button>
          )}
          <button type="button" onClick={jumpToLive} disabled={following && !buffer.paused}>
            Jump to live
          </button>
          <span className="log-status" role="status" aria-live="polite">
            {buffer.paused ? `Paused · ${held} new ${held === 1 ? "event" : "events"} held` : following ? "Live" : "Scrolled back"}
          </span>
          <span className="muted log-count" data-testid="log-count">
            {count.toLocaleString()} events
          </span>
        </div>
        <div className="log-head" aria-hidden="true">
          <span>Position</span>
          <span>Time</span>
          <span>Event</span>
          <span>Stream</span>
        </div>
        <div className="log-scroller" ref={scroller} onScroll={onScroll} data-testid="log-scroller">
          {count === 0 && <p className="muted log-empty">No events yet. They appear here as they are recorded.</p>}
          <ol className="log-rows" style={{ height: virtualizer.getTotalSize() }} aria-label="Events" aria-rowcount={count}>
            {virtualizer.getVirtualItems().map((row) => {
              const event = buffer.events[row.index];
              if (!event) return null;
              return (
                <li
                  key={event.position}
                  className="log-row-item"
                  style={{ transform: `translateY(${row.start}px)`, height: ROW_HEIGHT }}
                  aria-setsize={count}
                  aria-posinset={row.index + 1}
                >
                  <button
                    type="button"
                    className="log-row"
                    aria-pressed={selected?.id === event.id}
                    onClick={() => setSelectedIndex(row.index)}
                  >
                    <span className="log-position">#{event.position}</span>
                    <time dateTime={event.occurredAt} title={event.occurredAt}>
                      {new Date(event.occurredAt).toLocaleTimeString()}
                    </time>
                    <span className="log-type">{event.type}</span>
                    <span className="log-stream">
                      {event.streamType} {event.streamId}
                    </span>
                  </button>
                </li>
              );
            })}
          </ol>
        </div>
      </section>
      {selected && <EventDetail event={selected} onClose={() => setSelectedIndex(null)} />}
    </div>
  );
}
