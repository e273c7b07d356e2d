"""p4p engine: the library (no click, no printing)."""
__version__ = "0.1.0"
