"""Queues, presence and availability (who can take a customer now)."""
