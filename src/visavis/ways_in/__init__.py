"""The ways in: what creates conversations — appointments (with calendar invitations),
invitation links and phone codes, proactive invitations. Above `conversations`: they
write through the conversation service."""
