"""The console's service layer: one module per page. Each decides what its page shows or does
and builds the page's view model; each public function takes the request's Session (the request
owns the unit of work) and the signed-in user when it audits or acts. Work that must be committed
on its own is given a ``SessionFactory`` (sessions.separate_session)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy.orm import Session

# Opens a session of its own, as a context manager; whoever opens it commits it.
SessionFactory = Callable[[], AbstractContextManager[Session]]
