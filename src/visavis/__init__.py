"""visavis: self-hostable video consultation."""

__version__ = "0.1.0"
