"""The ORM stack (SQLAlchemy and SQLModel), imported whole by the first thread that needs it.

Two threads that import SQLAlchemy at the same moment (the app opening its database in one
worker while the sync line reads its status in another) can each meet the other's modules
half-made: Python then hands out a partly initialised module and the import fails. Python
runs this module's body in one thread only and makes every other thread wait for it, so each
module of nmi_desk that imports SQLAlchemy's ORM or SQLModel at its top imports this module
first (tests/test_layering.py checks it): by the time the second thread gets here, the stack
is complete. Modules that need Core alone import store/sql_core.py, which this one imports
before the ORM.
"""

import nmi_desk.store.sql_core  # noqa: F401  # Core whole first (store/sql_core.py)

# isort: split

import sqlalchemy.orm  # noqa: F401
import sqlmodel  # noqa: F401
