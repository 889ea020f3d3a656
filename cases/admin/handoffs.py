"""Admin for handoffs."""
