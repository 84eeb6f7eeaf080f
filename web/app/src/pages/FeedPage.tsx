import { useApolloClient, useQuery, useSubscription } from "@apollo/client/react";
import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { useServices } from "../apollo/context";
import { ErrorMessage, Loading } from "../components/ErrorMessage";
import { PostCardFragment } from "../components/PostCard";
import { LoadMorePosts, PostList } from "../components/PostList";
import { TimeTravel, momentOf } from "../components/TimeTravel";
import { graphql } from "../gql";
import type { PostCard_PostFragment } from "../gql/graphql";
import { useReconnects } from "../hooks/useConnection";
import { useLoadMore } from "../hooks/useLoadMore";
import { useSession } from "../hooks/useSession";

export const PAGE_SIZE = 20;

export const FeedQuery = graphql(`
  query Feed($first: Int!, $after: String, $tag: String, $author: String) {
    posts(first: $first, after: $after, tag: $tag, authorUsername: $author) {
      ...PostList_posts
    }
  }
`);

export const PastFeedQuery = graphql(`
  query PastFeed($first: Int!, $after: String, $tag: String, $author: String, $asOf: Position!) {
    headPosition
    posts(first: $first, after: $after, tag: $tag, authorUsername: $author, asOf: $asOf) {
      ...PostList_posts
    }
  }
`);

export const FeedUpdates = graphql(`
  subscription FeedUpdates($tag: String, $author: String, $after: Position) {
    feed(tag: $tag, authorUsername: $author, after: $after) {
      change
      position
      post {
        ...PostCard_post
      }
    }
  }
`);

export const PositionAtQuery = graphql(`
  query PositionAt($time: DateTime!) {
    positionAt(time: $time)
  }
`);

export function FeedPage() {
  const [params] = useSearchParams();
  const tag = params.get("tag") || null;
  const author = params.get("author") || null;
  const moment = momentOf(params);
  const filters = `${tag ?? ""}|${author ?? ""}`;
  return (
    <>
      <h1 className="page-title">{tag ? `#${tag}` : author ? `Posts by ${author}` : "Latest posts"}</h1>
      <FeedFilters tag={tag} author={author} />
      {/* A fresh feed (and pill) per filter and moment: the URL is the state. */}
      {moment.kind === "time" ? (
        <PastFeedAtTime key={`${filters}|${moment.at.toISOString()}`} tag={tag} author={author} at={moment.at} />
      ) : (
        <>
          <TimeTravel moment={moment} />
          {moment.kind === "position" ? (
            <PastFeed key={`${filters}|${moment.asOf}`} tag={tag} author={author} asOf={moment.asOf} />
          ) : (
            <Feed key={filters} tag={tag} author={author} />
          )}
        </>
      )}
    </>
  );
}

/** The feed as it stood at an instant: the log's position then, then the feed at that position. */
function PastFeedAtTime({ tag, author, at }: { tag: string | null; author: string | null; at: Date }) {
  // A time after the newest event answers the head, which moves: never cached.
  const { data, error, loading } = useQuery(PositionAtQuery, { variables: { time: at.toISOString() }, fetchPolicy: "no-cache" });
  const position = data?.positionAt ?? null;
  return (
    <>
      <TimeTravel moment={{ kind: "time", at }} position={position} />
      {error && <ErrorMessage error={error} title="The log's position at that time could not be read." />}
      {loading && !data && <Loading label="Finding the log's position at that time…" />}
      {position !== null && <PastFeed tag={tag} author={author} asOf={position} when={at.toLocaleString()} />}
    </>
  );
}

function PastFeed({ tag, author, asOf, when }: { tag: string | null; author: string | null; asOf: string; when?: string }) {
  // Past states of posts must not overwrite their present in the normalised
  // cache: the past is read without it, page by page.
  const client = useApolloClient();
  const { data, error, loading } = useQuery(PastFeedQuery, { variables: { first: PAGE_SIZE, tag, author, asOf }, fetchPolicy: "no-cache" });
  type Page = NonNullable<typeof data>["posts"];
  const [extra, setExtra] = useState<Pick<Page, "edges" | "pageInfo"> | null>(null);
  const edges = data ? [...data.posts.edges, ...(extra?.edges ?? [])] : undefined;
  const fetchPage = useCallback(
    async (after: string | null) => {
      const next = await client.query({ query: PastFeedQuery, variables: { first: PAGE_SIZE, tag, author, asOf, after }, fetchPolicy: "no-cache" });
      const page = next.data?.posts;
      if (page) setExtra((current) => ({ edges: [...(current?.edges ?? []), ...page.edges], pageInfo: page.pageInfo }));
    },
    [client, tag, author, asOf],
  );
  const paging = useLoadMore(extra?.pageInfo ?? data?.posts.pageInfo, fetchPage);
  return (
    <section aria-label="Posts" className="past">
      {error && !data && <ErrorMessage error={error} title="The past feed could not be loaded." />}
      {loading && !data && <Loading label="Loading the past feed…" />}
      {data && edges && edges.length === 0 && (
        <div className="empty card">
          <p>No posts had been published {when ? `by ${when}` : `at position ${asOf}`}.</p>
        </div>
      )}
      {edges && edges.length > 0 && <PostList edges={edges} label="Feed" />}
      <LoadMorePosts paging={paging} />
    </section>
  );
}

function FeedFilters({ tag, author }: { tag: string | null; author: string | null }) {
  const [params, setParams] = useSearchParams();
  // Filtering keeps the moment looked at: the past stays the past.
  const moment = new URLSearchParams([...params].filter(([key]) => key === "asOf" || key === "at"));
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams(moment);
    const t = String(form.get("tag") ?? "").trim().replace(/^#/, "");
    const a = String(form.get("author") ?? "").trim();
    if (t) next.set("tag", t.toLowerCase());
    if (a) next.set("author", a);
    setParams(next);
  }
  return (
    <form className="filters" role="search" aria-label="Filter the feed" onSubmit={submit} key={`${tag}|${author}`}>
      <label>
        Tag
        <input name="tag" defaultValue={tag ?? ""} placeholder="any tag" />
      </label>
      <label>
        Author
        <input name="author" defaultValue={author ?? ""} placeholder="any author" />
      </label>
      <button type="submit">Filter</button>
      {(tag || author) && (
        <Link to={moment.size ? `/?${moment.toString()}` : "/"} className="clear-filters">
          Clear filters
        </Link>
      )}
    </form>
  );
}

function Feed({ tag, author }: { tag: string | null; author: string | null }) {
  const client = useApolloClient();
  const { session } = useServices();
  const { user } = useSession();
  const variables = { first: PAGE_SIZE, tag, author };
  // Each visit reads the head of the feed again (what was published since the
  // last visit, own posts included); while the page stays open, new posts only
  // come through the pill.
  const { data, error, loading, fetchMore, updateQuery, refetch } = useQuery(FeedQuery, {
    variables,
    fetchPolicy: "cache-and-network",
    nextFetchPolicy: "cache-first",
    notifyOnNetworkStatusChange: false,
  });
  const [pending, setPending] = useState<string[]>([]);
  const shown = useRef(new Set<string>());
  const edges = data?.posts.edges;

  useEffect(() => {
    shown.current = new Set(edges?.map((edge) => edge.node.id));
  }, [edges]);

  const addPending = useCallback((ids: string[]) => {
    setPending((current) => {
      const fresh = ids.filter((id) => !current.includes(id) && !shown.current.has(id));
      return fresh.length ? [...fresh.reverse(), ...current] : current;
    });
  }, []);

  // Live: new posts wait behind the pill; changed posts update in the cache
  // (Apollo writes the subscription's Post into its normalised store).
  // After a reconnect the subscription resumes from the last update it saw
  // (`after`): the server first sends what changed meanwhile, then live.
  const lastSeen = useRef<string | null>(null);
  const [resumeFrom, setResumeFrom] = useState<string | null>(null);
  useSubscription(FeedUpdates, {
    variables: { tag, author, after: resumeFrom },
    onData: ({ data: update }) => {
      const feed = update.data?.feed;
      if (!feed) return;
      session.noteSeen(feed.position);
      lastSeen.current = feed.position;
      if (feed.change === "ADDED") addPending([feed.post.id]);
      if (feed.change === "REMOVED") {
        setPending((current) => current.filter((id) => id !== feed.post.id));
        updateQuery((_, { complete, previousData }) => {
          if (!complete) return;
          const edges = previousData.posts.edges.filter((edge) => edge.node.id !== feed.post.id);
          return { ...previousData, posts: { ...previousData.posts, edges } };
        });
      }
    },
  });

  // After a reconnect: resume from the last update seen. Before any update
  // was seen there is no position to resume from, so the head of the feed is
  // read without touching the list; shown posts are updated in place and
  // newer ones join the pill.
  const reconnects = useReconnects();
  useEffect(() => {
    if (reconnects === 0) return;
    if (lastSeen.current) {
      setResumeFrom(lastSeen.current);
      return;
    }
    let cancelled = false;
    client
      .query({ query: FeedQuery, variables: { first: PAGE_SIZE, tag, author }, fetchPolicy: "no-cache" })
      .then(({ data: head }) => {
        if (cancelled || !head) return;
        const fresh: string[] = [];
        const newest = [...shown.current][0];
        let beforeNewest = true;
        for (const { node } of head.posts.edges) {
          client.writeFragment({ fragment: PostCardFragment, fragmentName: "PostCard_post", data: node });
          if (node.id === newest) beforeNewest = false;
          if (!shown.current.has(node.id) && (beforeNewest || shown.current.size === 0)) fresh.push(node.id);
        }
        if (shown.current.size === 0) void refetch();
        else addPending(fresh.reverse());
      })
      .catch(() => undefined); // the indicator already tells the socket's story
    return () => {
      cancelled = true;
    };
  }, [reconnects, client, tag, author, addPending, refetch]);

  const listRef = useRef<HTMLOListElement>(null);
  function showPending() {
    const posts = pending
      .map((id) =>
        client.readFragment<PostCard_PostFragment>({
          fragment: PostCardFragment,
          fragmentName: "PostCard_post",
          id: client.cache.identify({ __typename: "Post", id }),
        }),
      )
      .filter((post): post is PostCard_PostFragment => post !== null);
    updateQuery((_, { complete, previousData }) => {
      if (!complete) return;
      const { posts: list } = previousData;
      const known = new Set(list.edges.map((edge) => edge.node.id));
      const added = posts
        .filter((post) => !known.has(post.id))
        .map((post) => ({ __typename: "PostEdge" as const, cursor: "", node: post }));
      return {
        ...previousData,
        posts: { ...list, edges: [...added, ...list.edges], totalCount: list.totalCount + added.length },
      };
    });
    setPending([]);
    window.scrollTo({ top: 0 });
    requestAnimationFrame(() => listRef.current?.querySelector<HTMLAnchorElement>("h2 a")?.focus());
  }

  const fetchPage = useCallback((after: string | null) => fetchMore({ variables: { after } }), [fetchMore]);
  const paging = useLoadMore(data?.posts.pageInfo, fetchPage);
  const { loadMore } = paging;

  const sentinel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const target = sentinel.current;
    if (!target || typeof IntersectionObserver === "undefined") return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void loadMore();
    }, { rootMargin: "400px" });
    observer.observe(target);
    return () => observer.disconnect();
  }, [loadMore]);

  return (
    <section aria-label="Posts">
      {pending.length > 0 && (
        <div className="pill-bar">
          <button type="button" className="pill" onClick={showPending}>
            {pending.length} new posts
          </button>
        </div>
      )}
      {error && !data && <ErrorMessage error={error} title="The feed could not be loaded." />}
      {loading && !data && <Loading label="Loading the feed…" />}
      {data && edges && edges.length === 0 && (
        <div className="empty card">
          <p>No posts here yet.</p>
          {user ? <Link to="/new">Write the first one</Link> : <Link to="/register">Join to write the first one</Link>}
        </div>
      )}
      {edges && edges.length > 0 && <PostList edges={edges} label="Feed" ref={listRef} />}
      <div ref={sentinel} />
      <LoadMorePosts paging={paging} />
    </section>
  );
}
