"""The conversation event log and the conversation state machine."""
