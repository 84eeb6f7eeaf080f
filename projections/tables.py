"""The read tables the queries read, one set per projection generation.

Rebuilds are blue/green: a projection's tables carry a generation suffix
(``posts_g3``); a rebuild fills the next generation from position 0 while the
live one keeps serving, then the live pointer is swapped atomically. Queries
therefore never name tables directly: they ask the runner for the live
:class:`ReadTables` and use its ``Table`` objects.

Durable tables (the log, checkpoints, generations) are Alembic's; these are
disposable and created by the runner when a generation starts.

Projection ``users`` owns ``users`` (and its helper ``user_posts``);
projection ``posts`` owns ``posts``, ``post_tags``, ``post_history``,
``post_counts``, ``comments`` and ``likes``.

The past of the posts (for ``posts(asOf:)``) is kept in two histories: the
wide ``post_history`` (a post's content and status) changes rarely, the narrow
``post_counts`` (its comment and like counts) with every comment or like: a full
copy of the post (body included) per like or comment was the largest cost of
a rebuild. Readers never join them themselves: ``projections.history`` gives
the posts as of a position with the ``posts`` table's column names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

POSITION = BigInteger().with_variant(Integer(), "sqlite")
CLUSTERED: dict[str, Any] = {"sqlite_with_rowid": False}
"""On SQLite, store rows in primary-key order (WITHOUT ROWID): a post's history rows
share a page, so closing the previous state and adding the next one touch one page
instead of three random ones in a large table. PostgreSQL ignores it."""
FOREVER = 2**62
"""``valid_to`` of the current row in ``post_history``."""
COUNTS_APART = 3
"""The posts projection's schema version from which counts have their own history.
Generations recorded with an older version keep the old shape until rebuilt."""


USER_CREDENTIALS = 2
"""The users projection's schema version from which ``users.credentials`` exists.
Generations recorded with an older version keep the old shape until rebuilt."""


def users_table(metadata: MetaData, suffix: str, schema_version: int = USER_CREDENTIALS) -> Table:
    credentials: list[Column[object]] = []
    if schema_version >= USER_CREDENTIALS:
        # how many times the password changed: tokens issued under fewer are stale
        credentials.append(Column("credentials", Integer, nullable=False, default=0))
    return Table(
        f"users{suffix}", metadata,
        Column("id", String(36), primary_key=True),
        Column("username", String(32), nullable=False, unique=True),
        # "Forgotten user" once forgotten
        Column("display_name", String(100), nullable=False),
        Column("bio", Text, nullable=False, default=""),
        # decrypted copy for the owner and admins; NULL once forgotten
        Column("email", String(320)),
        Column("role", String(16), nullable=False, default="MEMBER"),
        Column("forgotten", Boolean, nullable=False, default=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        # published, not deleted posts
        Column("post_count", Integer, nullable=False, default=0),
        Column("version", Integer, nullable=False),
        # position of the last event applied to this row
        Column("position", POSITION, nullable=False),
        *credentials,
    )


def user_tables(
    metadata: MetaData, suffix: str, schema_version: int = USER_CREDENTIALS
) -> dict[str, Table]:
    """Everything projection ``users`` owns in one generation."""
    # Which posts count towards their author's post_count; the users projection
    # keeps it because PostPublished & co. do not name the author.
    user_posts = Table(
        f"user_posts{suffix}", metadata,
        Column("post_id", String(36), primary_key=True),
        Column("author_id", String(36), nullable=False),
        Column("counted", Boolean, nullable=False, default=False),
    )
    return {"users": users_table(metadata, suffix, schema_version), "user_posts": user_posts}


def _post_columns(*, counts: bool = True) -> list[Column[object]]:
    content: list[Column[object]] = [
        Column("author_id", String(36), nullable=False),
        Column("title", String(200), nullable=False),
        Column("body", Text, nullable=False),
        # JSON array of lower-case tags, in the author's order
        Column("tags", Text, nullable=False, default="[]"),
        Column("status", String(16), nullable=False),  # DRAFT | PUBLISHED | ARCHIVED
        Column("version", Integer, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True)),
    ]
    if counts:
        content += [
            Column("comment_count", Integer, nullable=False, default=0),
            Column("like_count", Integer, nullable=False, default=0),
        ]
    return [
        *content,
        # feed order: newest first; position of the event that created the post
        Column("created_position", POSITION, nullable=False),
        Column("position", POSITION, nullable=False),
    ]


@dataclass(frozen=True)
class ReadTables:
    users: Table
    posts: Table
    post_tags: Table
    post_history: Table
    post_counts: Table | None
    """None for a generation of the older shape (counts inside ``post_history``)."""
    comments: Table
    likes: Table


def posts_tables(
    metadata: MetaData, suffix: str, schema_version: int = COUNTS_APART
) -> dict[str, Table]:
    """The tables of one generation, in the shape its recorded ``schema_version`` had."""
    posts = Table(
        f"posts{suffix}", metadata,
        Column("id", String(36), primary_key=True),
        *_post_columns(),
        Index(f"ix_posts{suffix}_feed", "status", "created_position"),
        Index(f"ix_posts{suffix}_author", "author_id", "status", "created_position"),
        **CLUSTERED,
    )
    post_tags = Table(
        f"post_tags{suffix}", metadata,
        Column("post_id", String(36), primary_key=True),
        Column("tag", String(32), primary_key=True),
        Index(f"ix_post_tags{suffix}_tag", "tag", "post_id"),
        **CLUSTERED,
    )
    if schema_version < COUNTS_APART:
        histories = _whole_history(metadata, suffix)
    else:
        histories = _split_history(metadata, suffix)
    comments = Table(
        f"comments{suffix}", metadata,
        Column("id", String(36), primary_key=True),
        Column("post_id", String(36), nullable=False),
        Column("author_id", String(36), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("edited_at", DateTime(timezone=True)),
        # oldest first within a post
        Column("created_position", POSITION, nullable=False),
        Column("position", POSITION, nullable=False),
        Index(f"ix_comments{suffix}_post", "post_id", "created_position"),
    )
    likes = Table(
        f"likes{suffix}", metadata,
        Column("post_id", String(36), primary_key=True),
        Column("user_id", String(36), primary_key=True),
        Index(f"ix_likes{suffix}_user", "user_id", "post_id"),
        **CLUSTERED,
    )
    return {
        "posts": posts, "post_tags": post_tags, **histories, "comments": comments, "likes": likes,
    }


def _split_history(metadata: MetaData, suffix: str) -> dict[str, Table]:
    """Content and counts apart.

    ``post_history``: the content valid at head position P has ``valid_from
    <= P < valid_to``; a post's rows start with its creation and end with its
    deletion. Keyed by (id, valid_to): the open row of a post is (id,
    FOREVER), so a batch closes it by primary key without knowing when it
    began. Not clustered: its rows carry the body, and a WITHOUT ROWID table
    keeps whole rows in its interior pages too; as a rowid table its rows are
    appended and only the narrow key index is kept in key order.

    ``post_counts``: one row per change of a post's counts (its first at its
    creation), only ever appended: a row lasts until the post's next one, so
    the counts at P are those of the post's last row with ``valid_from <= P``
    (one index seek). The post is named by its ``created_position``: an
    integer key keeps this table of most events narrow.
    """
    post_history = Table(
        f"post_history{suffix}", metadata,
        Column("id", String(36), primary_key=True),
        Column("valid_to", POSITION, primary_key=True),
        Column("valid_from", POSITION, nullable=False),
        *_post_columns(counts=False),
        Index(f"ix_post_history{suffix}_asof", "valid_to", "valid_from"),
    )
    post_counts = Table(
        f"post_counts{suffix}", metadata,
        Column("created_position", POSITION, primary_key=True),
        Column("valid_from", POSITION, primary_key=True),
        Column("comment_count", Integer, nullable=False),
        Column("like_count", Integer, nullable=False),
        **CLUSTERED,
    )
    return {"post_history": post_history, "post_counts": post_counts}


def _whole_history(metadata: MetaData, suffix: str) -> dict[str, Table]:
    """Schema versions before COUNTS_APART: every state of the whole post row,
    counts included, keyed by (id, valid_from). Kept so that a generation
    built by older code goes on serving and being applied until its rebuild
    into the new shape swaps in."""
    post_history = Table(
        f"post_history{suffix}", metadata,
        Column("id", String(36), primary_key=True),
        Column("valid_from", POSITION, primary_key=True),
        Column("valid_to", POSITION, nullable=False, default=FOREVER),
        *_post_columns(),
        Index(f"ix_post_history{suffix}_asof", "valid_to", "valid_from"),
        **CLUSTERED,
    )
    return {"post_history": post_history}
