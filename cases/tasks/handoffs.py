"""Periodic handoff tasks."""
