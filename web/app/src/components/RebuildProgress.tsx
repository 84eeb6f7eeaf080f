export interface Sample {
  at: number;
  position: number;
}

/** Events per second between the first and last sample, and the seconds left for `remaining`. */
export function rateAndEta(samples: Sample[], remaining: number): { rate: number | null; eta: number | null } {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last || last.at <= first.at || last.position <= first.position) return { rate: null, eta: null };
  const rate = ((last.position - first.position) * 1000) / (last.at - first.at);
  return { rate, eta: remaining / rate };
}

export function RebuildProgress({ name, position, head, done, samples }: { name: string; position: number; head: number; done: boolean; samples: Sample[] }) {
  const percent = done ? 100 : head > 0 ? Math.min(100, Math.floor((position * 100) / head)) : 0;
  const { rate, eta } = rateAndEta(samples, Math.max(0, head - position));
  return (
    <section className="rebuild card" aria-label={`Rebuild of ${name}`}>
      <h2>Rebuilding {name}</h2>
      <progress aria-label="Rebuild progress" max={100} value={percent} aria-valuetext={`${percent}%`} />
      <p className="muted" role="status">
        {done
          ? `Done: ${name} is live again, rebuilt from position 0.`
          : `${percent}% · position ${position.toLocaleString()} of ${head.toLocaleString()}` +
            (rate ? ` · ${Math.round(rate).toLocaleString()} events/s` : "") +
            (eta !== null ? ` · about ${Math.max(1, Math.round(eta))} s left` : "")}
      </p>
      <p className="muted">The live tables keep serving reads while the new ones fill; they are swapped in when the rebuild is done.</p>
    </section>
  );
}
