"""Storage: the engine factory (the one place a database is opened), tables and migrations.

No Textual here. Heavy imports (SQLAlchemy, SQLModel) live in submodules so that the
standard-library fast path (store.connect) stays light.
"""
