"""A software WebAuthn authenticator for the tests: an EC P-256 key made with ``cryptography``,
attestation "none" and assertions built with CBOR, as a phone's platform authenticator would
answer ``navigator.credentials.create``/``get`` (in the JSON form the browser page posts).

Nothing of the server is used here: the ``webauthn`` package on the server checks these
answers exactly as it checks a real device's."""

from __future__ import annotations

import base64
import hashlib
import json
import os

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SoftAuthenticator:
    def __init__(self, rp_id: str = "testserver", origin: str = "http://testserver"):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0
        self.rp_id = rp_id
        self.origin = origin
        self.user_handle: str | None = None
        self.aaguid = bytes(range(16))

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def copy(self) -> SoftAuthenticator:
        """A clone of this authenticator (same key and credential, its own counter)."""
        twin = SoftAuthenticator(self.rp_id, self.origin)
        twin.key, twin.credential_id = self.key, self.credential_id
        twin.sign_count, twin.user_handle = self.sign_count, self.user_handle
        return twin

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin}
        ).encode()

    def create(self, options: dict, *, uv: bool = True, origin: str | None = None) -> dict:
        """The answer to ``navigator.credentials.create`` for ``options`` (the server's JSON)."""
        self.user_handle = options["user"]["id"]
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        flags = UP | AT | (UV if uv else 0)
        auth_data = (
            hashlib.sha256(options.get("rp", {}).get("id", self.rp_id).encode()).digest()
            + bytes([flags])
            + self.sign_count.to_bytes(4, "big")
            + self.aaguid
            + len(self.credential_id).to_bytes(2, "big")
            + self.credential_id
            + self._cose_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self,
        options: dict,
        *,
        uv: bool = True,
        sign_count: int | None = None,
        origin: str | None = None,
    ) -> dict:
        """The answer to ``navigator.credentials.get`` (the counter goes up by one, unless
        ``sign_count`` is given)."""
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = (
            hashlib.sha256(options.get("rpId", self.rp_id).encode()).digest()
            + bytes([UP | (UV if uv else 0)])
            + self.sign_count.to_bytes(4, "big")
        )
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": self.user_handle,
            },
            "clientExtensionResults": {},
        }
