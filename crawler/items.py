"""Items: the spider yields `Fetched` (a dataclass item) for every site, page or error."""

from monitor.records import Fetched

__all__ = ["Fetched"]
