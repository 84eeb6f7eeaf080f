"""Personal data at rest: AES-GCM per value, one 256-bit key per user.

Destroying a user's key (crypto-shredding) makes every value sealed with it
unreadable, in the log and in any copy of it, without rewriting history.
The associated data binds a ciphertext to its event type and field, so a
value cannot be moved to another field and still decrypt.
"""

from __future__ import annotations

import base64
import os
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _aad(event_type: str, field: str) -> bytes:
    return f"{event_type}.{field}".encode()


def seal(key: bytes, event_type: str, field: str, value: Any) -> str:
    """The value as base64 text of nonce + ciphertext (a fresh nonce every time)."""
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(key).encrypt(nonce, orjson.dumps(value), _aad(event_type, field))
    return base64.b64encode(nonce + sealed).decode()


def unseal(key: bytes | None, event_type: str, field: str, token: Any) -> Any:
    """The plaintext value, or None when the key is gone (shredded) or does not fit."""
    if key is None or not isinstance(token, str):
        return None
    raw = base64.b64decode(token)
    try:
        plain = AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], _aad(event_type, field))
    except InvalidTag:
        # sealed with an older key of a subject that was shredded and came back
        return None
    return orjson.loads(plain)
