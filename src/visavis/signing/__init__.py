"""Signing documents: signature images stamped into the pages, an audit trail appended,
the whole file sealed (PAdES) with the organisation's key; and the verification of a
sealed file. A pure library: no settings, no conversations, no sockets but the one
request to a timestamp authority. Every call is synchronous (CPU-bound, but for that
request): async callers use `asyncio.to_thread`."""
