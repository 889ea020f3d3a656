"""Checks other apps register to refuse a write about certain people or
cases (data protection: a person whose processing is restricted). Every
write of the casework services calls ``check_writes_allowed`` once it has
decided that the caller may otherwise make it; a guard raises a
``ServiceError`` to refuse."""
from collections.abc import Callable, Iterable

WriteGuard = Callable[..., None]
_GUARDS: list[WriteGuard] = []


def register_write_guard(guard: WriteGuard) -> WriteGuard:
    if guard not in _GUARDS:
        _GUARDS.append(guard)
    return guard


def check_writes_allowed(*, case_ids: Iterable = (), person_ids: Iterable = ()) -> None:
    """Refuse (raise) when a registered guard refuses a write to these cases
    (and the people on them) or these people."""
    case_ids, person_ids = [pk for pk in case_ids if pk], [pk for pk in person_ids if pk]
    if not case_ids and not person_ids:
        return
    for guard in _GUARDS:
        guard(case_ids=case_ids, person_ids=person_ids)
