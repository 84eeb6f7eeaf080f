import { Link } from "react-router";

export function Tags({ tags }: { tags: readonly string[] }) {
  if (!tags.length) return null;
  return (
    <ul className="tags">
      {tags.map((tag) => (
        <li key={tag}>
          <Link className="tag" to={`/?tag=${encodeURIComponent(tag)}`}>
            #{tag}
          </Link>
        </li>
      ))}
    </ul>
  );
}
