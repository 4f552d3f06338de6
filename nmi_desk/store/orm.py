"""The ORM stack (SQLAlchemy and SQLModel), imported whole by the first thread that needs it.

Two threads that import SQLAlchemy at the same moment (the app opening its database in one
worker while the sync line reads its status in another) can each meet the other's modules
half-made: Python then hands out a partly initialised module and the import fails. Python
runs this module's body in one thread only and makes every other thread wait for it, so each
module of nmi_desk that imports SQLAlchemy or SQLModel at its top imports this module first
(tests/test_layering.py checks it): by the time the second thread gets here, the stack is
complete.
"""

import sqlalchemy  # noqa: F401
import sqlalchemy.dialects.sqlite  # noqa: F401 - what create_engine("sqlite://") loads
import sqlalchemy.orm  # noqa: F401
import sqlmodel  # noqa: F401
