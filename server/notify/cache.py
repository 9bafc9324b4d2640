"""Which repositories want notifications, cached briefly: no job is queued for a repository without a forge
API or email recipients."""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Build, Repo

TTL_SECONDS = 10.0
MAX_BUILDS = 1024


class NotifyCache:
    """`forge(repo_id)`: a commit status can be sent; `email(repo_id)`: its policy may send email."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._known: dict[int, tuple[float, bool, bool]] = {}
        self._workflows: dict[int, bool] = {}

    async def forge(self, repo_id: int, session: AsyncSession | None = None) -> bool:
        """Whether the repository has a forge API to send commit statuses to (read in `session` if not
        known: a transaction asking needs no second connection)."""
        return (await self._lookup(repo_id, session))[0]

    async def email(self, repo_id: int, session: AsyncSession | None = None) -> bool:
        """Whether the repository's email policy may send anything."""
        return (await self._lookup(repo_id, session))[1]

    async def _lookup(self, repo_id: int, session: AsyncSession | None) -> tuple[bool, bool]:
        cached = self._known.get(repo_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1], cached[2]
        if session is not None:
            repo = await session.get(Repo, repo_id)
        else:
            async with self._sessions() as own:
                repo = await own.get(Repo, repo_id)
        forge = bool(repo and repo.api_url)
        email = bool(repo and repo.email_policy != "never")
        self._known[repo_id] = (time.monotonic() + TTL_SECONDS, forge, email)
        return forge, email

    async def workflow_statuses(self, build_id: int, session: AsyncSession) -> bool:
        """Whether the build's stages report their own commit statuses (Woodpecker workflows); a build's
        format never changes once it is compiled, so the answer is kept (for the most recent builds)."""
        if build_id in self._workflows:
            return self._workflows[build_id]
        query = select(col(Build.context)["config_format"].as_string()).where(col(Build.id) == build_id)
        answer = (await session.exec(query)).first() == "woodpecker"
        if len(self._workflows) >= MAX_BUILDS:
            self._workflows.pop(next(iter(self._workflows)))
        self._workflows[build_id] = answer
        return answer

    def forget(self, repo_id: int) -> None:
        """Drop what is known about a repository (its settings changed)."""
        self._known.pop(repo_id, None)
