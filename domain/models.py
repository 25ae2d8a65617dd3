"""Import every model module so Base.metadata is complete (migrations, create_all)."""

from domain.agencies import models as agencies
from domain.audit import models as audit
from domain.calendar import models as calendar
from domain.families import models as families  # noqa: F401  (registers the tables)
from domain.processes import models as processes
from domain.submissions import models as submissions
from domain.users import models as users

__all__ = ["agencies", "audit", "calendar", "processes", "submissions", "users"]
