"""OAuth2's authorization-code flow with PKCE (RFC 7636) through httpx-oauth: the address people are sent
to, the code exchanged for tokens, and a token refreshed."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_oauth.oauth2 import BaseOAuth2, OAuth2Error, OAuth2Token


class OAuthRefused(Exception):
    """The forge refused a code or a refresh token."""


class OAuthUnavailable(Exception):
    """The forge's token endpoint did not answer (try again later)."""


@dataclass(frozen=True)
class Tokens:
    """An access token, the refresh token that renews it ('' when none) and when it expires (None: never)."""

    access: str
    refresh: str = ""
    expires: float | None = None


def pkce_pair() -> tuple[str, str]:
    """A fresh code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class OAuthClient(BaseOAuth2[dict[str, Any]]):
    """A forge's OAuth2 endpoints (httpx-oauth), its HTTP client ignoring proxy variables like the rest of
    Hangar's."""

    def get_httpx_client(self) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
        """The client the token requests go through."""
        return httpx.AsyncClient(trust_env=False, timeout=30)

    async def authorize_address(self, redirect_uri: str, state: str, challenge: str) -> str:
        """Where to send the visitor to sign in and grant Hangar its scopes."""
        return await self.get_authorization_url(
            redirect_uri, state, self.base_scopes, code_challenge=challenge, code_challenge_method="S256"
        )

    async def exchange(self, code: str, redirect_uri: str, verifier: str) -> Tokens:
        """The tokens for an authorization code; OAuthRefused when the forge says no."""
        try:
            return _tokens(await self.get_access_token(code, redirect_uri, verifier))
        except httpx.HTTPError as exc:
            raise OAuthUnavailable(f"the forge did not answer: {exc}") from None
        except OAuth2Error as exc:
            raise OAuthRefused(f"the forge refused the sign-in ({_reason(exc)})") from None

    async def renew(self, refresh_token: str) -> Tokens:
        """New tokens for a refresh token; OAuthRefused when the forge says no."""
        try:
            renewed = _tokens(await self.refresh_token(refresh_token))
        except httpx.HTTPError as exc:
            raise OAuthUnavailable(f"the forge did not answer: {exc}") from None
        except OAuth2Error as exc:
            raise OAuthRefused(f"the forge refused to refresh the token ({_reason(exc)})") from None
        return renewed if renewed.refresh else Tokens(renewed.access, refresh_token, renewed.expires)


def _reason(exc: OAuth2Error) -> str:
    """The OAuth error code the forge answered with (`invalid_grant`…), else the HTTP status."""
    response = getattr(exc, "response", None)
    if response is None:
        return type(exc).__name__
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    error = answer.get("error") if isinstance(answer, dict) else None
    return str(error) if error else f"HTTP {response.status_code}"


def _tokens(token: OAuth2Token) -> Tokens:
    if "error" in token or not token.get("access_token"):  # GitHub answers an error with 200
        raise OAuthRefused(str(token.get("error_description") or token.get("error") or "no access token"))
    expires = token.get("expires_at")
    return Tokens(
        str(token["access_token"]),
        str(token.get("refresh_token") or ""),
        float(expires) if expires is not None else None,
    )


def expires_soon(expires: float | None, margin: float) -> bool:
    """Whether a token expiring at `expires` must be refreshed before use."""
    return expires is not None and expires - margin <= time.time()
