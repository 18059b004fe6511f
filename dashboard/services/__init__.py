"""The Workbench's concerns, one small class each: :class:`Find` (search), :class:`Profiles`,
:class:`Network`, :class:`Lists` (inspection, shells, overview) and :class:`Review`."""

from credgraph.dashboard.services.lists import Lists
from credgraph.dashboard.services.network import Network
from credgraph.dashboard.services.profile import Profiles
from credgraph.dashboard.services.review import Review
from credgraph.dashboard.services.search import Find

__all__ = ["Find", "Lists", "Network", "Profiles", "Review"]
