"""p4p — pay-for-performance payouts of a county medical alliance."""

__version__ = "0.3.0"
