"""Errors raised by services. Plain Python, so the admin, tasks and management
commands can catch them too; the API turns them into problem details."""


class ServiceError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field


class InvalidInput(ServiceError):
    """The request is well-formed but a value is wrong (400)."""

    status = 400
    code = "invalid"


class Conflict(ServiceError):
    """The object's current state forbids the change (409)."""

    status = 409
    code = "conflict"


class Unprocessable(ServiceError):
    """The change is understood but a business rule refuses it (422)."""

    status = 422
    code = "unprocessable"


class Forbidden(ServiceError):
    """The caller may see the object but not do this to it (403). For objects
    the caller may not see at all, raise ``django.http.Http404`` instead."""

    status = 403
    code = "forbidden"
