import { useLikeMutation } from "../mutations/useLikeMutation";
import { ErrorMessage } from "./ErrorMessage";

export function LikeButton({ post, signedIn }: { post: { id: string; likeCount: number; likedByMe: boolean }; signedIn: boolean }) {
  const { toggle, error } = useLikeMutation();
  return (
    <div className="like">
      <button
        type="button"
        className="like-button"
        aria-pressed={post.likedByMe}
        disabled={!signedIn}
        title={signedIn ? undefined : "Sign in to like posts"}
        onClick={() => void toggle(post).catch(() => undefined)}
      >
        <span aria-hidden="true">{post.likedByMe ? "♥" : "♡"}</span> Like
      </button>
      <span className="like-count" aria-live="polite">
        {post.likeCount} {post.likeCount === 1 ? "like" : "likes"}
      </span>
      {error && <ErrorMessage error={error} title="The like was not saved." />}
    </div>
  );
}
