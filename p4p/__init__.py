"""p4p — pay-for-performance payouts of a county medical alliance."""
from .engine import __version__  # noqa: F401
