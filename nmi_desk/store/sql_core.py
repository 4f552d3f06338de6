"""SQLAlchemy Core (no ORM), imported whole by the first thread that needs it.

The same guard as store/orm.py, for the modules that only run SQL through engines (the
engine factory, migrations, sync): they import this module first and stay off the ORM, which
with its model classes costs ~0.25 s at every start of a command that never uses them (the
`nmi-desk sync` process, docs/performance.md "Sync"). store/orm.py imports this module
before the ORM, so a thread that goes on to the ORM finds Core complete.
"""

import sqlalchemy  # noqa: F401
import sqlalchemy.dialects.sqlite  # noqa: F401 - what create_engine("sqlite://") loads
import sqlalchemy.engine  # noqa: F401
