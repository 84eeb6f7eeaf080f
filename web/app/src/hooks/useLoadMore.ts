import { useCallback, useRef, useState } from "react";

export interface Paging {
  hasMore: boolean;
  loading: boolean;
  error: unknown;
  loadMore: () => Promise<void>;
}

/**
 * Reads the page after `pageInfo` with `fetchPage`, one request at a time;
 * a failure is kept (to show) until the next try. Keep `fetchPage` stable.
 */
export function useLoadMore(
  pageInfo: { hasNextPage: boolean; endCursor?: string | null } | undefined,
  fetchPage: (after: string | null) => Promise<unknown>,
): Paging {
  const [state, setState] = useState<{ loading: boolean; error: unknown }>({ loading: false, error: null });
  const busy = useRef(false);
  const loadMore = useCallback(async () => {
    if (!pageInfo?.hasNextPage || busy.current) return;
    busy.current = true;
    setState({ loading: true, error: null });
    try {
      await fetchPage(pageInfo.endCursor ?? null);
      setState({ loading: false, error: null });
    } catch (error) {
      setState({ loading: false, error });
    } finally {
      busy.current = false;
    }
  }, [pageInfo, fetchPage]);
  return { hasMore: Boolean(pageInfo?.hasNextPage), ...state, loadMore };
}
