"""Media: ICE/TURN configuration and credentials (recording and SFU come later)."""
