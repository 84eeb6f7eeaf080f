import { useCallback, useState } from "react";

// What a person types survives a failed request, an expired session and a
// reload: it is kept in localStorage until the write succeeds.
export function useDraft<T extends object>(key: string, initial: T): [T, (next: Partial<T>) => void, () => void] {
  const [value, setValue] = useState<T>(() => {
    try {
      const saved = localStorage.getItem(key);
      return saved ? { ...initial, ...(JSON.parse(saved) as Partial<T>) } : initial;
    } catch {
      return initial;
    }
  });
  const update = useCallback(
    (next: Partial<T>) => {
      setValue((current) => {
        const merged = { ...current, ...next };
        try {
          localStorage.setItem(key, JSON.stringify(merged));
        } catch {
          // storage full or disabled: the draft still lives in memory
        }
        return merged;
      });
    },
    [key],
  );
  const clear = useCallback(() => {
    try {
      localStorage.removeItem(key);
    } catch {
      // nothing to clear
    }
  }, [key]);
  return [value, update, clear];
}
