"""POST /feedback."""
