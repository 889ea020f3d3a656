"""Retention: anonymise closed cases after the configured period."""
