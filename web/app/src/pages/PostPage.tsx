import { useApolloClient, useQuery, useSubscription } from "@apollo/client/react";
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { CommentItem } from "../components/CommentItem";
import { ErrorMessage, Loading } from "../components/ErrorMessage";
import { Field } from "../components/Field";
import { LikeButton } from "../components/LikeButton";
import { Tags } from "../components/Tags";
import { describe, hasCode } from "../errors";
import { graphql } from "../gql";
import type { PostCard_PostFragment } from "../gql/graphql";
import { useReconnects } from "../hooks/useConnection";
import { useDraft } from "../hooks/useDraft";
import { useLoadMore } from "../hooks/useLoadMore";
import { useSession } from "../hooks/useSession";
import { appendComment, useCommentMutation } from "../mutations/useCommentMutation";
import { useArchivePost, useDeletePost, usePublishPost } from "../mutations/usePostMutations";

/** A page of a post's comments, as the page reads it first and then page by page. */
export const PostPageCommentsFragment = graphql(`
  fragment PostPage_comments on CommentConnection {
    edges {
      cursor
      node {
        ...Comment_comment
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
    totalCount
  }
`);

export const PostQuery = graphql(`
  query PostPage($id: ID!) {
    headPosition
    post(id: $id) {
      ...PostCard_post
      comments(first: 100) {
        ...PostPage_comments
      }
    }
  }
`);

export const MoreComments = graphql(`
  query MoreComments($id: ID!, $after: String) {
    post(id: $id) {
      id
      comments(first: 100, after: $after) {
        ...PostPage_comments
      }
    }
  }
`);

export const PostChanged = graphql(`
  subscription PostChanged($id: ID!, $after: Position) {
    postChanged(id: $id, after: $after) {
      ...PostCard_post
    }
  }
`);

export const CommentAdded = graphql(`
  subscription CommentAdded($postId: ID!, $after: Position) {
    commentAdded(postId: $postId, after: $after) {
      ...Comment_comment
    }
  }
`);

export function PostPage() {
  const { id = "" } = useParams();
  const { user } = useSession();
  const { data, error, loading, refetch } = useQuery(PostQuery, { variables: { id } });

  // Live: the post's new state and new comments go straight into the cache.
  // After a reconnect both resume from the log's head as the page read it
  // (`after`): the server sends what changed since, then carries on live.
  const reconnects = useReconnects();
  const readAt = data?.headPosition ?? null;
  const resumeFrom = reconnects > 0 ? readAt : null;
  useSubscription(PostChanged, { variables: { id, after: resumeFrom } });
  useSubscription(CommentAdded, {
    variables: { postId: id, after: resumeFrom },
    onData: ({ client, data: update }) => {
      if (update.data) appendComment(client.cache, update.data.commentAdded);
    },
  });

  // Without a position read yet (the first read failed), read the page again.
  useEffect(() => {
    if (reconnects > 0 && !readAt) void refetch().catch(() => undefined);
  }, [reconnects, readAt, refetch]);

  if (loading && !data) return <Loading label="Loading the post…" />;
  if (error && !data) return <ErrorMessage error={error} title="The post could not be loaded." />;
  const post = data?.post;
  if (!post) {
    return (
      <div className="empty card">
        <h1>Post not found</h1>
        <p>It may have been deleted, or it is not visible to you.</p>
        <Link to="/">Back to the feed</Link>
      </div>
    );
  }
  const isAuthor = user?.id === post.author.id;
  return (
    <article className="post" aria-labelledby="post-title">
      <header>
        <h1 id="post-title">{post.title}</h1>
        <p className="byline">
          by <Link to={`/?author=${encodeURIComponent(post.author.username)}`}>{post.author.displayName}</Link>
          {post.publishedAt && (
            <>
              {" · "}
              <time dateTime={post.publishedAt}>{new Date(post.publishedAt).toLocaleString()}</time>
            </>
          )}
          {post.status !== "PUBLISHED" && <span className="badge">{post.status === "DRAFT" ? "Draft" : "Archived"}</span>}
          {" · "}
          <Link to={`/posts/${post.id}/history`}>History</Link>
        </p>
      </header>
      <div className="post-body">
        {post.body.split(/\n{2,}/).map((paragraph, index) => (
          <p key={index}>{paragraph}</p>
        ))}
      </div>
      <Tags tags={post.tags} />
      <LikeButton post={post} signedIn={Boolean(user)} />
      {isAuthor && <AuthorActions post={post} onConflict={() => refetch()} />}
      <Comments
        postId={post.id}
        comments={post.comments.edges.map((edge) => edge.node)}
        total={post.comments.totalCount}
        pageInfo={post.comments.pageInfo}
        signedIn={Boolean(user)}
      />
    </article>
  );
}

function AuthorActions({ post, onConflict }: { post: PostCard_PostFragment; onConflict: () => Promise<unknown> }) {
  const navigate = useNavigate();
  const [publish, publishing] = usePublishPost();
  const [archive, archiving] = useArchivePost();
  const [remove, removing] = useDeletePost();
  const [problem, setProblem] = useState<{ error: unknown; sentVersion: number } | null>(null);
  const busy = publishing.loading || archiving.loading || removing.loading;

  async function run(action: "publish" | "archive" | "delete") {
    const variables = { id: post.id, expectedVersion: post.version };
    setProblem(null);
    try {
      if (action === "publish") await publish({ variables });
      if (action === "archive") await archive({ variables });
      if (action === "delete") {
        await remove({ variables });
        navigate("/", { replace: true });
      }
    } catch (error) {
      setProblem({ error, sentVersion: post.version });
      if (hasCode(error, "CONFLICT")) await onConflict().catch(() => undefined);
    }
  }

  const conflict = problem && hasCode(problem.error, "CONFLICT");
  return (
    <section className="author-actions" aria-label="Author actions">
      <Link className="button" to={`/posts/${post.id}/edit`}>
        Edit
      </Link>
      {post.status === "DRAFT" && (
        <button type="button" onClick={() => void run("publish")} disabled={busy}>
          Publish
        </button>
      )}
      {post.status === "PUBLISHED" && (
        <button type="button" onClick={() => void run("archive")} disabled={busy}>
          Archive
        </button>
      )}
      <button
        type="button"
        className="danger"
        disabled={busy}
        onClick={() => {
          if (window.confirm("Delete this post? This cannot be undone.")) void run("delete");
        }}
      >
        Delete
      </button>
      {conflict && (
        <div role="alert" className="notice notice-warning">
          This post changed meanwhile: you were looking at version {problem.sentVersion}, it is now at
          version {post.version}. The page shows the newer version; nothing of yours was applied. Try again if you still want to.
        </div>
      )}
      {problem && !conflict && <ErrorMessage error={problem.error} title="That did not work." />}
    </section>
  );
}

function Comments({
  postId,
  comments,
  total,
  pageInfo,
  signedIn,
}: {
  postId: string;
  comments: Parameters<typeof CommentItem>[0]["comment"][];
  total: number;
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
  signedIn: boolean;
}) {
  const client = useApolloClient();
  // The next page is written into the cache, where Post.comments' policy appends it.
  const fetchPage = useCallback(
    (after: string | null) => client.query({ query: MoreComments, variables: { id: postId, after }, fetchPolicy: "network-only" }),
    [client, postId],
  );
  const more = useLoadMore(pageInfo, fetchPage);
  const [draft, setDraft] = useDraft(`chronicle.comment.${postId}`, { body: "", key: "", keyFor: "" });
  const [addComment, { loading, error }] = useCommentMutation();
  const fieldError = describe(error).fields.body;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!draft.body.trim()) return;
    // One key per comment text: a retry after a failure cannot post it twice.
    const key = draft.key && draft.keyFor === draft.body ? draft.key : crypto.randomUUID();
    setDraft({ key, keyFor: draft.body });
    try {
      await addComment({ variables: { input: { postId, body: draft.body, idempotencyKey: key } } });
      setDraft({ body: "", key: "", keyFor: "" });
    } catch {
      // the message shows below; the draft stays
    }
  }

  return (
    <section className="comments">
      <h2 id="comments-title">
        Comments <span className="muted">({total})</span>
      </h2>
      {comments.length === 0 ? (
        <p className="muted">No comments yet.</p>
      ) : (
        <ol className="comment-list" aria-label="Discussion">
          {comments.map((comment) => (
            <CommentItem key={comment.id} comment={comment} />
          ))}
        </ol>
      )}
      {more.hasMore && (
        <button type="button" className="load-more" onClick={() => void more.loadMore()} disabled={more.loading}>
          {more.loading ? "Loading comments…" : "Show more comments"}
        </button>
      )}
      <ErrorMessage error={more.error} title="More comments could not be loaded." />
      {signedIn ? (
        <form onSubmit={submit} className="comment-form">
          <Field id="comment-body" label="Comment" error={fieldError}>
            {(props) => <textarea {...props} value={draft.body} rows={3} onChange={(event) => setDraft({ body: event.target.value })} />}
          </Field>
          {error && !fieldError && <ErrorMessage error={error} title="The comment was not added." />}
          <button type="submit" disabled={loading || !draft.body.trim()}>
            Add comment
          </button>
        </form>
      ) : (
        <p>
          <Link to="/signin">Sign in</Link> to comment.
        </p>
      )}
    </section>
  );
}
