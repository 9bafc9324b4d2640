"""The OAuth2 authorization-code flow of a stand-in forge, as GitHub, Gitea and GitLab speak it: an authorize
page where a person picks who signs in, codes bound to the redirect address and a PKCE challenge (S256),
tokens that expire and refresh tokens good for one use."""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response


@dataclass
class Grant:
    """Who a token belongs to and until when."""

    login: str
    expires: float | None


@dataclass
class OAuthServer:
    """The authorization server's state: codes, access tokens, refresh tokens; what it refused."""

    client_id: str
    client_secret: str
    token_seconds: float | None = 8 * 3600
    """How long an access token lives (None: for ever, as a GitHub OAuth app's)."""
    refuse_refresh: bool = False
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    access: dict[str, Grant] = field(default_factory=dict)
    refresh: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    refreshed: int = 0

    def issue(self, login: str) -> dict[str, object]:
        """New tokens for `login`, as the token endpoint answers."""
        token = "tok_" + secrets.token_hex(16)
        expires = time.time() + self.token_seconds if self.token_seconds is not None else None
        self.access[token] = Grant(login, expires)
        answer: dict[str, object] = {"access_token": token, "token_type": "bearer", "scope": "repo"}
        if self.token_seconds is not None:
            renewal = "ref_" + secrets.token_hex(16)
            self.refresh[renewal] = login
            answer |= {"expires_in": int(self.token_seconds), "refresh_token": renewal}
        return answer

    def who(self, authorization: str) -> str | None:
        """The login of a live bearer (or `token`) credential, else None."""
        scheme, _, token = authorization.partition(" ")
        grant = self.access.get(token.strip()) if scheme.lower() in ("bearer", "token") else None
        if grant is None or (grant.expires is not None and grant.expires < time.time()):
            return None
        return grant.login

    def expire(self, login: str) -> None:
        """Make every access token of `login` expired (their refresh tokens still work)."""
        for grant in self.access.values():
            if grant.login == login:
                grant.expires = time.time() - 1

    async def authorize_page(self, request: Request) -> Response:
        """The forge's sign-in page: who signs in (a login field) and the Authorize button."""
        query = request.query_params
        wrong = self._check_authorize(dict(query))
        if wrong:
            self.problems.append(f"authorize: {wrong}")
            return HTMLResponse(f"<p>{html.escape(wrong)}</p>", status_code=400)
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(key)}" value="{html.escape(value)}">'
            for key, value in query.items()
        )
        return HTMLResponse(
            f'<!doctype html><title>Authorize</title><form method="post" action="{request.url.path}">{hidden}'
            '<label>Login <input name="login"></label><button type="submit">Authorize</button></form>'
        )

    async def authorize(self, request: Request) -> Response:
        """The person authorized Hangar: back to its redirect address with a code and the same state."""
        form = {key: str(value) for key, value in (await request.form()).items()}
        code = "code_" + secrets.token_hex(8)
        self.codes[code] = form
        target = form["redirect_uri"] + "?" + urlencode({"code": code, "state": form["state"]})
        return RedirectResponse(target, status_code=302)

    async def token(self, request: Request) -> Response:
        """The token endpoint: a code (with its PKCE verifier) or a refresh token for tokens."""
        form = {key: str(value) for key, value in (await request.form()).items()}
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            return self._refuse("incorrect_client_credentials")
        if form.get("grant_type") == "refresh_token":
            login = self.refresh.pop(form.get("refresh_token", ""), None)
            if login is None or self.refuse_refresh:
                return self._refuse("bad_refresh_token", expected=self.refuse_refresh)
            self.refreshed += 1
            return JSONResponse(self.issue(login))
        if form.get("grant_type") != "authorization_code":
            return self._refuse("unsupported_grant_type")
        asked = self.codes.pop(form.get("code", ""), None)
        if asked is None or asked["redirect_uri"] != form.get("redirect_uri"):
            return self._refuse("bad_verification_code")
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != asked["code_challenge"]:
            return self._refuse("invalid_grant: the PKCE verifier does not match")
        return JSONResponse(self.issue(asked["login"]))

    def _check_authorize(self, query: dict[str, str]) -> str:
        if query.get("client_id") != self.client_id:
            return "unknown client_id"
        if query.get("response_type", "code") != "code":
            return "response_type must be code"
        if not query.get("state") or len(query["state"]) < 16:
            return "no state (or a guessable one)"
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return "no PKCE challenge (S256)"
        if not query.get("redirect_uri", "").endswith("/login/callback"):
            return "redirect_uri is not Hangar's callback"
        return ""

    def _refuse(self, error: str, expected: bool = False) -> Response:
        if not expected:
            self.problems.append(f"token endpoint refused: {error}")
        return JSONResponse({"error": error, "error_description": error}, status_code=400)
