"""Admin for people, cases, consents, notes, history and the access log."""
