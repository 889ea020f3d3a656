"""Every write of the casework domain. Functions take keyword-only arguments
and run in one transaction; errors are ``api_core.errors`` values."""
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from api_core.errors import InvalidInput
from cases.models import Agency, User
from cases.roles import ROLE_PERMISSIONS, Role


def _full_clean(instance, exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidInput(messages[0], field=None if field == "__all__" else field) from exc


@transaction.atomic
def agency_upsert(*, code: str, name: str, country: str, kind: str | None = None,
                  contact_email: str | None = None, language: str | None = None,
                  time_zone: str | None = None) -> tuple[Agency, bool]:
    """Create the agency ``code`` or update the fields given. Returns (agency, created)."""
    agency = Agency.objects.select_for_update().filter(code=code).first()
    created = agency is None
    if created:
        agency = Agency(code=code)
    agency.name = name
    agency.country = country
    for field, value in (("kind", kind), ("contact_email", contact_email), ("language", language),
                         ("time_zone", time_zone)):
        if value is not None:
            setattr(agency, field, value)
    if created and time_zone is None:
        agency.time_zone = ""  # filled from the country on save
    _full_clean(agency, exclude=["time_zone"] if not agency.time_zone else None)
    agency.save()
    return agency, created


def ensure_role_groups(*, sync_permissions: bool = False) -> dict[str, Group]:
    """The role groups, created if missing; with ``sync_permissions`` their
    permissions are set to exactly what ``ROLE_PERMISSIONS`` says."""
    groups = {role.value: Group.objects.get_or_create(name=role.value)[0] for role in Role}
    if sync_permissions:
        permissions = list(Permission.objects.select_related("content_type"))
        for role, patterns in ROLE_PERMISSIONS.items():
            wanted = [perm for perm in permissions if any(_matches(perm, pattern) for pattern in patterns)]
            groups[role].permissions.set(wanted)
    return groups


def _matches(permission: Permission, pattern: str) -> bool:
    app_label, codename = pattern.split(".", 1)
    if permission.content_type.app_label != app_label:
        return False
    if codename.endswith("_*"):
        return permission.codename.startswith(codename[:-1])
    return permission.codename == codename


@transaction.atomic
def user_upsert(*, username: str, email: str, agency_code: str | None = None, role: str | None = None,
                language: str | None = None, time_zone: str | None = None,
                password: str | None = None) -> tuple[User, bool]:
    """Create the user or update what is given. ``role`` adds a role group; the
    secretariat role also grants admin access (``is_staff``)."""
    agency = None
    if agency_code is not None:
        agency = Agency.objects.filter(code=agency_code).first()
        if agency is None:
            raise InvalidInput(f"No agency with code '{agency_code}'.", code="unknown_agency", field="agency")
    if role is not None and role not in Role.values:
        raise InvalidInput(f"Unknown role '{role}'.", code="unknown_role", field="role")
    user = User.objects.select_for_update().filter(username=username).first()
    created = user is None
    if created:
        user = User(username=username)
    user.email = email
    if agency is not None:
        user.agency = agency
    if language is not None:
        user.language = language
    if time_zone is not None:
        user.time_zone = time_zone
    if password:
        # Checked against the user as it will be saved (similarity to its username and email).
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise InvalidInput(" ".join(exc.messages), code="invalid_password", field="password") from exc
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    if role in (Role.SECRETARIAT, Role.COMMITTEE_MEMBER):
        user.is_staff = True  # both work in the admin
    _full_clean(user, exclude=["password"])
    user.save()
    if role is not None:
        user.groups.add(ensure_role_groups()[role])
    return user, created


@transaction.atomic
def user_set_preferences(*, user: User, language: str | None = None, time_zone: str | None = None) -> User:
    if language is not None:
        user.language = language
    if time_zone is not None:
        user.time_zone = time_zone
    _full_clean(user, exclude=["password", "username", "email", "agency"])
    user.save(update_fields=["language", "time_zone"])
    return user
