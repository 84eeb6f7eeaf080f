"""Password hashing (argon2id) and bearer tokens (signed, expiring JWTs)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from uuid import uuid4

import argon2
import jwt
from argon2.exceptions import InvalidHashError, VerificationError

from domain.errors import Unauthenticated


class Argon2Hasher:
    """The PasswordHasher port on argon2-cffi, argon2id, the library's default costs."""

    def __init__(
        self,
        time_cost: int = argon2.DEFAULT_TIME_COST,
        memory_cost: int = argon2.DEFAULT_MEMORY_COST,
        parallelism: int = argon2.DEFAULT_PARALLELISM,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says."""

    user_id: str
    expires_at: float
    """Unix time after which the token no longer names anyone."""
    credentials: int
    """The user's count of password changes when it was issued (0 for tokens
    issued before tokens carried it): a later change makes it stale."""


class TokenService:
    """Issues and checks HS256 bearer tokens whose subject is a user id."""

    ALGORITHM = "HS256"
    MIN_SECRET_BYTES = 32
    """RFC 7518 3.2: an HS256 key shorter than the hash output weakens the signature."""
    VERIFIED_KEPT = 10_000
    """Verified tokens remembered at most (forgotten all at once past that)."""

    def __init__(self, secret: str, ttl_seconds: int) -> None:
        # Refuse at start-up rather than sign weakly (PyJWT would only warn, per token).
        if len(secret.encode()) < self.MIN_SECRET_BYTES:
            raise ValueError(f"the token secret must be at least {self.MIN_SECRET_BYTES} bytes")
        self._secret = secret
        self._ttl = ttl_seconds
        self._verified: dict[str, TokenClaims] = {}
        """Tokens whose signature already checked out. Every authenticated request
        verifies its token; PyJWT's parsing and checks are a visible part of a
        request's CPU (bench/README.md), for a result that cannot change until ``exp``."""

    def issue(self, user_id: str, credentials: int = 0) -> str:
        now = int(time.time())
        claims = {
            "sub": user_id, "iat": now, "exp": now + self._ttl, "jti": str(uuid4()),
            "cv": credentials,
        }
        return jwt.encode(claims, self._secret, algorithm=self.ALGORITHM)

    def verify(self, token: str) -> str:
        """The user id the token was issued to; Unauthenticated if forged, damaged or expired."""
        return self.claims(token).user_id

    def claims(self, token: str) -> TokenClaims:
        """What the token says; Unauthenticated if forged, damaged or expired."""
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at > time.time():
                return known
            del self._verified[token]
            raise Unauthenticated("token expired")
        if len(self._verified) >= self.VERIFIED_KEPT:
            self._verified.clear()
        return self._decode(token)

    def _decode(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self.ALGORITHM],  # never let the token choose its own algorithm
                options={"require": ["sub", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("invalid token") from None
        subject = claims["sub"]
        credentials = claims.get("cv", 0)
        if not isinstance(subject, str) or not subject or type(credentials) is not int:
            raise Unauthenticated("invalid token")
        verified = TokenClaims(subject, float(claims["exp"]), credentials)
        self._verified[token] = verified
        return verified
