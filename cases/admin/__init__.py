from . import accounts, casework, handoffs  # noqa: F401  (registers the model admins)
