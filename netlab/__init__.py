"""netlab: a terminal network lab."""

__version__ = "0.1.0"
