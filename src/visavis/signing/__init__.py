"""Signing documents: signature images stamped into the pages, an audit trail appended,
the whole file sealed (PAdES) with the organisation's key; and the verification of a
sealed file. A pure library: no sockets, no settings, no conversations. Every call is
synchronous and CPU-bound: async callers use `asyncio.to_thread`."""
