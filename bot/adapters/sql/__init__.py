"""The gateway's database: tables, migrations, and the stores on SQLAlchemy 2 (SQLite or PostgreSQL)."""
