"""A shared subscription result is serialized once, and every socket's frame is exact."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from chronicle.frames import NextFrames


def _next(operation_id: str, data: Any, extensions: Any = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"data": data}
    if extensions is not None:
        payload["extensions"] = extensions
    return {"id": operation_id, "type": "next", "payload": payload}


def test_every_socket_gets_the_frame_orjson_would_write() -> None:
    frames = NextFrames()
    shared = {"events": {"position": "7", "data": {"title": "Ünïcode \"quoted\""}}}
    for operation_id, extensions in [("1", {"cost": {"requested": 3}}), ("two", None)]:
        message = _next(operation_id, shared, extensions)
        assert frames.encode(message) == orjson.dumps(message).decode()


def test_the_shared_data_is_serialized_once(monkeypatch: pytest.MonkeyPatch) -> None:
    frames = NextFrames()
    shared = {"feed": {"change": "ADDED"}}
    serialized: list[Any] = []
    dumps = orjson.dumps

    def counting(value: Any, *args: Any, **kwargs: Any) -> bytes:
        serialized.append(value)
        return dumps(value, *args, **kwargs)

    monkeypatch.setattr("chronicle.frames.orjson.dumps", counting)
    for i in range(100):
        frames.encode(_next(str(i), shared))
    assert sum(1 for value in serialized if value is shared) == 1


def test_equal_but_distinct_data_is_never_mistaken_for_a_forgotten_one() -> None:
    frames = NextFrames(remembered=1)
    first, second = {"n": 1}, {"n": 2}
    frames.encode(_next("a", first))
    frames.encode(_next("a", second))  # evicts `first`
    assert frames.encode(_next("a", first)) == '{"id":"a","type":"next","payload":{"data":{"n":1}}}'


@pytest.mark.parametrize("message", [
    {"type": "connection_ack"},
    {"id": "1", "type": "error", "payload": [{"message": "no"}]},
    {"id": "1", "type": "next", "payload": {"data": {"a": 1}, "errors": [{"message": "x"}]}},
    {"id": "1", "type": "next", "payload": {"data": None}},
    {"data": {"posts": []}},
])
def test_anything_else_is_left_to_the_plain_encoder(message: dict[str, Any]) -> None:
    assert NextFrames().encode(message) is None
