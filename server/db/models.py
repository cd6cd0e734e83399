"""Imports every domain's models so that ``Base.metadata`` is complete (Alembic, tests)."""

from server.accounts import models as accounts  # noqa: F401
from server.answers import models as answers  # noqa: F401
from server.bulletins import models as bulletins  # noqa: F401
from server.cluster import models as cluster  # noqa: F401
from server.db.base import Base
from server.duty import models as duty  # noqa: F401
from server.notifications import models as notifications  # noqa: F401
from server.notify import models as notify  # noqa: F401
from server.orders import models as orders  # noqa: F401
from server.photos import models as photos  # noqa: F401
from server.progress import models as progress  # noqa: F401
from server.push import models as push  # noqa: F401
from server.sites import models as sites  # noqa: F401
from server.syncing import models as syncing  # noqa: F401
from server.walks import models as walks  # noqa: F401

metadata = Base.metadata
