"""Members for end-to-end scenarios: registered through the API, admins through the CLI."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tests.e2e.server import Api, Server, unique

PASSWORD = "correct horse battery"

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { token position user { id username displayName email role } }
}
"""


@dataclass(frozen=True)
class Member:
    id: str
    username: str
    email: str
    token: str
    password: str = PASSWORD


async def register(api: Api, prefix: str = "m", password: str = PASSWORD) -> Member:
    username = unique(prefix)
    email = f"{username}@example.org"
    data = await api(REGISTER, {"input": {"username": username, "email": email,
                                          "password": password}})
    payload = data["register"]
    return Member(payload["user"]["id"], username, email, payload["token"], password)


def promote(server: Server, username: str, token: str) -> None:
    """Grant admin from the command line, then wait until the server's read model shows it.

    The CLI is another process: the server learns of the event by its
    projection runner's poll, not through its in-process bus.
    """
    done = server.cli("promote", username)
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.post_sync("{ me { role } }", token=token)["me"]["role"] == "ADMIN":
            return
        time.sleep(0.2)
    raise AssertionError(f"{username} did not become an admin")


def register_sync(server: Server, prefix: str = "admin") -> Member:
    username = unique(prefix)
    email = f"{username}@example.org"
    payload = server.post_sync(REGISTER, {"input": {"username": username, "email": email,
                                                    "password": PASSWORD}})["register"]
    return Member(payload["user"]["id"], username, email, payload["token"])
