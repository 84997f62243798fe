"""The audit log of access to stored data: append-only, hash-chained (`log.py`)."""
