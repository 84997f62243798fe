"""Advisers, passwords, sessions, roles, customer tokens, rate limits."""
