"""The `hangar` client of the REST API (`hangar repo|build|cron|secret|sign`): speaks HTTP only, so it never
imports the server's own modules (an import contract in pyproject.toml holds it to that)."""
