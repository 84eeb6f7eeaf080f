"""Property-based fuzzing of the served schema: no input can break the service.

Queries and mutations are generated from the schema the server itself exports
(``hypothesis-graphql``), with hostile values for every scalar: control
characters, NUL, lone surrogates, very long strings, forged cursors, positions
past 2^63 and far past the log's head, ids of real and unknown streams. They
are sent over HTTP as a member and as an admin. Raw request bodies that are
not GraphQL requests at all (any JSON value, nested arrays, invalid UTF-8) are
sent too.

The service passes when:
- no response is a 5xx, and every error carries one of the contract's codes,
  never INTERNAL;
- afterwards every projection is LIVE, with nothing parked;
- every acknowledged write is in the log, and the read model equals a
  rebuild of it from the log.

The run is bounded (``CHRONICLE_FUZZ_EXAMPLES`` per test, a fixed seed under
CI); ``make fuzz`` runs a longer, randomised one.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries

from tests.e2e.members import Member, register_sync
from tests.e2e.server import Server

CODES = {"UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "BAD_USER_INPUT",
         "RATE_LIMITED", "STALE_READ"}
EXAMPLES = int(os.environ.get("CHRONICLE_FUZZ_EXAMPLES", "150"))
RANDOM = bool(os.environ.get("CHRONICLE_FUZZ_RANDOM"))
"""Set by ``make fuzz``: a new seed each run. Otherwise (and so under CI) the seed is fixed."""

# Rate limits and cost budgets are the subject of their own tests: here they
# must not stop the fuzzer from reaching the resolvers behind them.
SERVER_SETTINGS = {
    "CHRONICLE_LOGIN_MAX_FAILURES": "1000",
    "CHRONICLE_REGISTRATIONS_PER_WINDOW": "100000",
    "CHRONICLE_COST_BUDGET_PER_MINUTE": "100000000",
}

# Destroying the fuzzer's own accounts would only turn the rest of the run into
# UNAUTHENTICATED answers; forgetting has scenarios of its own.
EXCLUDED_MUTATIONS = {"forgetMe", "forgetUser"}

fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)


# --- hostile values -------------------------------------------------------------

NASTY_TEXT = [
    "", " ", "\x00", "a\x00b", "\x07bell", "tab\tand\nnewline", "\r\n", "\x7f", "\x85", "\u2028",
    "\ud800", "a\udfffb", "\U0001f600", "x" * 300, "y" * 50_000, "%_\\", "[*]", "'; DROP TABLE",
    "1e400", "-0", "NaN", "null", "{}", "9" * 5000, "💥" * 1000,
]


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


FORGED_CURSORS = [
    _cursor(["post", 2**64]), _cursor(["post", -1]), _cursor(["event", 2**63]),
    _cursor(["post", "x"]), _cursor([]), _cursor({"a": 1}), _cursor(None),
    _cursor(["post", [[[[[]]]]]]), base64.b64encode(b"[" * 5000).decode(), "!!!", "=",
]
POSITIONS = ["0", "1", "-1", str(2**63 - 1), str(2**63), str(2**64), "9" * 5000, "abc", " 1",
             "1.5", "\ud800"]

# Mostly ordinary values, so that operations get past validation to the handlers
# and resolvers; hostile ones often enough to reach every check on the way.
plain = st.text(alphabet=st.characters(categories=["L", "N", "Zs", "P"]), min_size=1, max_size=30)
hostile = st.one_of(
    st.text(max_size=30),
    st.sampled_from(NASTY_TEXT),
    st.sampled_from(FORGED_CURSORS),
    st.text(alphabet=st.characters(max_codepoint=0x9f), max_size=12),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1,
            max_size=3),
)
texts = st.integers(0, 9).flatmap(lambda n: plain if n < 8 else hostile)


def strings() -> st.SearchStrategy[graphql.ValueNode]:
    return texts.map(nodes.String)


@dataclass
class World:
    """What the fuzzer knows of the server: members, and ids that exist."""

    member: Member
    admin: Member
    ids: list[str]
    acknowledged: list[int] = field(default_factory=list)
    created_posts: set[str] = field(default_factory=set)
    deleted_posts: set[str] = field(default_factory=set)


def scalars(world: World) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    known = st.sampled_from(world.ids)
    return {
        "String": strings(),
        # Page sizes and versions: mostly small, sometimes anything a 32-bit Int holds.
        "Int": st.one_of(st.integers(0, 25), st.integers(0, 25),
                         st.integers(-(2**31), 2**31 - 1)).map(nodes.Int),
        "ID": st.one_of(known, known, texts).map(nodes.String),
        "Position": st.one_of(
            st.sampled_from(POSITIONS), st.integers(0, 2**70).map(str)
        ).map(nodes.String),
        "DateTime": st.one_of(
            st.datetimes().map(lambda d: d.isoformat() + "Z"), texts
        ).map(nodes.String),
        "JSON": strings(),
    }


# --- the server --------------------------------------------------------------------

def post(server: Server, body: bytes, token: str | None = None,
         content_type: str = "application/json") -> httpx.Response:
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(server.graphql_url, content=body, headers=headers, timeout=60)


def encode(document: str) -> bytes:
    # ensure_ascii: lone surrogates travel as JSON escapes, as a browser would send them
    return json.dumps({"query": document}, ensure_ascii=True).encode()


def assert_well_formed(response: httpx.Response, sent: object) -> dict[str, Any]:
    assert response.status_code < 500, (response.status_code, response.text[:500], sent)
    body = response.json()
    assert isinstance(body, dict), (body, sent)
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code in CODES, (error, sent)
    return body


def with_positions(document: graphql.DocumentNode, schema: graphql.GraphQLSchema
                   ) -> graphql.DocumentNode:
    """Select ``position`` on every mutation payload, so every acknowledged write is known."""
    mutation_type = schema.mutation_type
    assert mutation_type is not None

    def with_position(selection: graphql.SelectionNode) -> graphql.SelectionNode:
        if not isinstance(selection, graphql.FieldNode) or selection.selection_set is None:
            return selection
        payload = graphql.get_named_type(mutation_type.fields[selection.name.value].type)
        chosen = selection.selection_set.selections
        if "position" not in getattr(payload, "fields", {}) or any(
            isinstance(s, graphql.FieldNode) and s.alias is None and s.name.value == "position"
            for s in chosen
        ):
            return selection
        position = graphql.FieldNode(name=graphql.NameNode(value="position"))
        return graphql.FieldNode(
            alias=selection.alias, name=selection.name, arguments=selection.arguments,
            directives=selection.directives,
            selection_set=graphql.SelectionSetNode(selections=(*chosen, position)),
        )

    operations = []
    for definition in document.definitions:
        assert isinstance(definition, graphql.OperationDefinitionNode)
        operations.append(graphql.OperationDefinitionNode(
            operation=definition.operation, name=definition.name,
            variable_definitions=definition.variable_definitions,
            directives=definition.directives,
            selection_set=graphql.SelectionSetNode(selections=tuple(
                with_position(s) for s in definition.selection_set.selections)),
        ))
    return graphql.DocumentNode(definitions=tuple(operations))


def acknowledge(world: World, data: dict[str, Any] | None) -> None:
    for name, payload in (data or {}).items():
        if not isinstance(payload, dict) or "position" not in payload:
            continue
        world.acknowledged.append(int(payload["position"]))
        post_ = payload.get("post")
        if name == "createPost" and isinstance(post_, dict) and "id" in post_:
            world.created_posts.add(post_["id"])
        if name == "deletePost" and "id" in payload:
            world.deleted_posts.add(payload["id"])


@pytest.fixture(scope="module")
def schema(server: Server) -> graphql.GraphQLSchema:
    exported = server.cli("export-schema")
    assert exported.returncode == 0, exported.stderr
    return graphql.build_schema(exported.stdout)


@pytest.fixture(scope="module")
def world(server: Server, admin: Member) -> World:
    member = register_sync(server, "fuzz")
    ids = [member.id, admin.id]
    for publish in (True, False, True):
        created = server.post_sync(
            "mutation($i: CreatePostInput!) { createPost(input: $i) { post { id } } }",
            {"i": {"title": "Seed", "body": "Seed body", "tags": ["seed"], "publish": publish}},
            token=member.token,
        )["createPost"]["post"]["id"]
        ids.append(created)
    comment = server.post_sync(
        "mutation($i: AddCommentInput!) { addComment(input: $i) { comment { id } } }",
        {"i": {"postId": ids[2], "body": "Seed comment"}}, token=admin.token,
    )["addComment"]["comment"]["id"]
    ids.append(comment)
    return World(member, admin, ids)


@pytest.fixture(scope="module")
def documents(schema: graphql.GraphQLSchema, world: World
              ) -> st.SearchStrategy[str]:
    custom = scalars(world)
    fields = [name for name in schema.mutation_type.fields  # type: ignore[union-attr]
              if name not in EXCLUDED_MUTATIONS]
    # One mutation field per document: a document of several fails as a whole more
    # often than not, and the fuzzer would rarely get a write acknowledged.
    writes = st.sampled_from(fields).flatmap(
        lambda name: mutations(schema, fields=[name], custom_scalars=custom,
                               print_ast=lambda document: document)
    ).map(lambda document: graphql.print_ast(with_positions(document, schema)))
    reads = queries(schema, custom_scalars=custom)
    return st.one_of(reads, writes)


# --- the properties ----------------------------------------------------------------

@fuzz_settings
@given(data=st.data())
def test_no_generated_operation_breaks_the_service(
    server: Server, world: World, documents: st.SearchStrategy[str], data: st.DataObject
) -> None:
    document = data.draw(documents, label="document")
    caller = data.draw(st.sampled_from([world.member, world.admin, None]), label="caller")
    body = assert_well_formed(
        post(server, encode(document), caller.token if caller else None), document
    )
    acknowledge(world, body.get("data"))
    kind = "mutation" if document.startswith("mutation") else "query"
    codes = sorted({e["extensions"]["code"] for e in body.get("errors") or []})
    event(f"{kind}: {'/'.join(codes) or 'answered'}")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["query", "variables", "operationName", "extensions",
                                       "x"]), children, max_size=4),
    max_leaves=20,
)

raw_bodies = st.one_of(
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
    st.sampled_from([
        b"null", b"5", b'"str"', b"true", b"[]", b"[" * 100_000 + b"]" * 100_000,
        b'{"query": "{ headPosition }"' + b"\xff\xfe" + b"}", b"9" * 5000,
        b'{"query": 5}', b'{"query": "{ headPosition }", "variables": []}',
        b'{"query": "{ headPosition }", "extensions": {"minPosition": "' + b"9" * 5000 + b'"}}',
    ]),
)


@fuzz_settings
@given(body=raw_bodies)
def test_no_request_body_breaks_the_service(server: Server, world: World, body: bytes) -> None:
    response = post(server, body, world.member.token)
    event(f"HTTP {response.status_code}")
    assert response.status_code < 500, (response.status_code, response.text[:300], body[:80])
    if response.status_code != 200:
        errors = response.json()["errors"]
        assert errors and all(e["extensions"]["code"] in CODES for e in errors), errors


# --- afterwards: nothing broken, nothing lost ------------------------------------

READ_MODEL = """
query ReadModel($status: PostStatus, $after: String) {
  posts(first: 40, status: $status, after: $after) {
    edges { node { id title body tags status version commentCount likeCount
                   author { id username displayName }
                   comments(first: 100) { edges { node { id body author { id } } } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def _read_model(server: Server, admin: Member) -> list[Any]:
    rows: list[Any] = []
    for status in ("DRAFT", "PUBLISHED", "ARCHIVED"):
        after = None
        while True:
            page = server.post_sync(READ_MODEL, {"status": status, "after": after},
                                    token=admin.token)["posts"]
            rows += [edge["node"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    users = server.post_sync("{ users(first: 100) { edges { node { id username role } } } }",
                             token=admin.token)
    return [*sorted(rows, key=lambda row: row["id"]), users]


def _projections(server: Server, admin: Member) -> list[dict[str, Any]]:
    status: list[dict[str, Any]] = server.post_sync(
        "{ projections { name state position lag } }", token=admin.token)["projections"]
    return status


def test_afterwards_every_projection_is_live_and_nothing_acknowledged_is_lost(
    server: Server, world: World
) -> None:
    ready = httpx.get(f"{server.base}/readyz", timeout=30)
    assert ready.status_code == 200, ready.text
    head = int(server.post_sync("{ headPosition }")["headPosition"])
    assert all(position <= head for position in world.acknowledged)
    # Every acknowledged write is in the log, at the position it was acknowledged with.
    for position in sorted(set(world.acknowledged))[:200]:
        events = server.post_sync(
            "query($a: Position) { events(first: 1, after: $a) { edges { node { position } } } }",
            {"a": str(position - 1)}, token=world.admin.token)["events"]["edges"]
        assert [int(e["node"]["position"]) for e in events] == [position]
    # Every acknowledged post that was not deleted is in the read model.
    for post_id in world.created_posts - world.deleted_posts:
        found = server.post_sync("query($id: ID!) { post(id: $id) { id } }", {"id": post_id},
                                 token=world.admin.token)["post"]
        assert found == {"id": post_id}


def test_afterwards_the_read_model_equals_a_rebuild_of_the_log(
    server: Server, world: World
) -> None:
    before = _read_model(server, world.admin)
    for projection in _projections(server, world.admin):
        assert projection["state"] == "LIVE", projection
        done = server.cli("projections", "rebuild", projection["name"])
        assert done.returncode == 0, done.stderr
    assert _read_model(server, world.admin) == before
