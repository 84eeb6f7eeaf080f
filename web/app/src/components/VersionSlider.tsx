// A slider over a post's versions: arrows on the keyboard (the native range
// input), and step buttons on either side.
export function VersionSlider({ value, max, onChange }: { value: number; max: number; onChange: (version: number) => void }) {
  const go = (version: number) => onChange(Math.min(max, Math.max(1, version)));
  return (
    <div className="version-slider">
      <button type="button" onClick={() => go(value - 1)} disabled={value <= 1} aria-label="Previous version">
        ‹
      </button>
      <input
        type="range"
        aria-label="Version"
        aria-valuetext={`Version ${value} of ${max}`}
        min={1}
        max={max}
        step={1}
        value={value}
        onChange={(event) => go(Number(event.target.value))}
      />
      <button type="button" onClick={() => go(value + 1)} disabled={value >= max} aria-label="Next version">
        ›
      </button>
      <output className="version-label" aria-live="polite">
        v{value} <span className="muted">of {max}</span>
      </output>
    </div>
  );
}
