import type { FormEvent } from "react";
import { Link, useSearchParams } from "react-router";

/** Where the feed looks from: now, a log position (`?asOf=`) or an instant (`?at=`, ISO in UTC). */
export type Moment = { kind: "now" } | { kind: "position"; asOf: string } | { kind: "time"; at: Date };

export function momentOf(params: URLSearchParams): Moment {
  const asOf = params.get("asOf") ?? "";
  if (/^\d+$/.test(asOf)) return { kind: "position", asOf };
  const at = new Date(params.get("at") ?? "");
  if (params.get("at") && !Number.isNaN(at.getTime())) return { kind: "time", at };
  return { kind: "now" };
}

/** A date as `<input type="datetime-local">` shows it: the member's local time, to the second. */
export function localInputValue(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** Choose a time or a log position: the feed as it stood then. The URL keeps the choice. */
export function TimeTravel({ moment, position }: { moment: Moment; position?: string | null }) {
  const [params, setParams] = useSearchParams();
  function go(change: (next: URLSearchParams) => void) {
    const next = new URLSearchParams(params);
    next.delete("asOf");
    next.delete("at");
    change(next);
    setParams(next);
  }
  function byTime(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    // datetime-local has no zone: the Date constructor reads it as local time.
    const at = new Date(String(new FormData(event.currentTarget).get("at") ?? ""));
    go((next) => {
      if (!Number.isNaN(at.getTime())) next.set("at", at.toISOString());
    });
  }
  function byPosition(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const value = String(new FormData(event.currentTarget).get("asOf") ?? "").trim();
    go((next) => {
      if (/^\d+$/.test(value)) next.set("asOf", value);
    });
  }
  const now = new URLSearchParams(params);
  now.delete("asOf");
  now.delete("at");
  const key = moment.kind === "time" ? moment.at.toISOString() : moment.kind === "position" ? moment.asOf : "now";
  return (
    <section className="time-travel" aria-label="Time travel" key={key}>
      {/* Folded while the feed is live: a reader's tool, not the page's subject. */}
      <details open={moment.kind !== "now"}>
        <summary>See the feed as it was</summary>
        <div className="time-travel-forms">
          <form className="filters" aria-label="Feed as of a time" onSubmit={byTime}>
            <label>
              As of date and time (your local time)
              <input type="datetime-local" name="at" step="1" defaultValue={moment.kind === "time" ? localInputValue(moment.at) : ""} />
            </label>
            <button type="submit">Show the feed then</button>
          </form>
          <form className="filters" aria-label="Feed as of a position" onSubmit={byPosition}>
            <label>
              As of log position
              <input name="asOf" inputMode="numeric" pattern="[0-9]*" defaultValue={moment.kind === "position" ? moment.asOf : ""} placeholder="now" />
            </label>
            <button type="submit">Show the feed at that position</button>
          </form>
        </div>
      </details>
      {moment.kind !== "now" && (
        <div className="notice notice-past" role="note" aria-label="Viewing the past">
          <strong>You are looking at the past:</strong> the public feed as it stood{" "}
          {moment.kind === "time" ? (
            <>
              at{" "}
              <time dateTime={moment.at.toISOString()} title={moment.at.toISOString()}>
                {moment.at.toLocaleString()}
              </time>
              {position != null && <> (log position {position})</>}
            </>
          ) : (
            <>at position {moment.asOf} of the log</>
          )}
          . Nothing here is live. <Link to={now.size ? `/?${now.toString()}` : "/"}>Back to now</Link>
        </div>
      )}
    </section>
  );
}
