"""The schema: the tables (SQLAlchemy models), their column types, and its history (Alembic)."""
