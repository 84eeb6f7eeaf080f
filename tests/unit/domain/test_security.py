"""The real password hasher and bearer tokens."""

from __future__ import annotations

import time

import jwt
import pytest

from domain.errors import Unauthenticated
from domain.security import Argon2Hasher, TokenService

SECRET = "a-test-secret-that-is-long-enough-for-hs256!"


def test_argon2id_hashes_verify_the_right_password_only() -> None:
    hasher = Argon2Hasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)

    hashed = hasher.hash("correct horse")

    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert hasher.verify(hashed, "correct horse")
    assert not hasher.verify(hashed, "wrong horse")
    assert not hasher.verify("not a hash", "correct horse")
    assert hasher.hash("correct horse") != hashed  # salted


def test_a_token_names_the_user_it_was_issued_to_until_it_expires() -> None:
    tokens = TokenService(SECRET, ttl_seconds=3600)

    token = tokens.issue("user-1")

    assert tokens.verify(token) == "user-1"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["jti"] != jwt.decode(tokens.issue("user-1"), SECRET, algorithms=["HS256"])["jti"]


def test_a_token_carries_the_password_changes_it_was_issued_under_and_its_expiry() -> None:
    tokens = TokenService(SECRET, ttl_seconds=3600)

    claims = tokens.claims(tokens.issue("user-1", credentials=2))

    assert (claims.user_id, claims.credentials) == ("user-1", 2)
    assert claims.expires_at == pytest.approx(time.time() + 3600, abs=5)


def test_a_token_from_before_tokens_carried_credentials_counts_as_issued_under_none() -> None:
    tokens = TokenService(SECRET, ttl_seconds=3600)
    now = int(time.time())
    older = jwt.encode({"sub": "user-1", "iat": now, "exp": now + 60}, SECRET, "HS256")

    assert tokens.claims(older).credentials == 0


def test_expired_tampered_or_foreign_tokens_are_refused() -> None:
    tokens = TokenService(SECRET, ttl_seconds=3600)
    now = int(time.time())
    expired = jwt.encode({"sub": "user-1", "iat": now - 20, "exp": now - 10}, SECRET, "HS256")
    head, body, signature = tokens.issue("user-1").split(".")
    tampered = ".".join((head, body, signature[::-1]))
    foreign = TokenService("another-secret-that-is-long-enough-too!!", 3600).issue("user-1")
    unsigned = jwt.encode({"sub": "user-1", "iat": now, "exp": now + 60}, "", "none")

    for token in (expired, tampered, foreign, unsigned, "garbage"):
        with pytest.raises(Unauthenticated):
            tokens.verify(token)


def test_a_token_verified_before_is_still_refused_once_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tokens = TokenService(SECRET, ttl_seconds=60)
    token = tokens.issue("user-1")
    assert tokens.verify(token) == "user-1"
    assert tokens.verify(token) == "user-1"  # remembered: no second decode needed

    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(Unauthenticated) as refused:
        tokens.verify(token)
    assert refused.value.message == "token expired"


def test_a_token_issued_with_a_negative_ttl_is_already_expired() -> None:
    tokens = TokenService(SECRET, ttl_seconds=-1)

    with pytest.raises(Unauthenticated) as refused:
        tokens.verify(tokens.issue("user-1"))

    assert refused.value.message == "token expired"


def test_a_secret_too_short_for_hs256_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        TokenService("short", ttl_seconds=60)
