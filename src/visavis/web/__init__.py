"""HTTP routes, the WebSocket gateway, middleware."""
