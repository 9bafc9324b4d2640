"""The database: SQLModel tables, the asyncio engine, and Alembic migrations."""
