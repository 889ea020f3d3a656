"""Cases, members, people, notes, consents and history — in and out.

Output serializers are read-only; input serializers list only what a caller
may set, so ownership, state, references and timestamps cannot be assigned.
"""
import datetime
import enum
from collections import defaultdict

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from api_core.fields import DateTimeField, StrictBooleanField, StrictCharField
from cases.models import (
    VULNERABILITIES,
    BorderPoint,
    Case,
    CaseMember,
    ClosureReason,
    Consent,
    ConsentMethod,
    ConsentScope,
    DocumentType,
    HistoryEntry,
    Note,
    NoteVisibility,
    Person,
    Priority,
    Relationship,
    Sex,
    Vulnerability,
    vulnerability_field,
)
from cases.selectors import FORMER_OWNER_STATUS, FULL_ACCESS, Access

PERSONAL_FIELDS = (
    "given_names", "family_names", "sex", "date_of_birth", "date_of_birth_is_estimate", "nationality",
    "document_type", "document_country", "document_number", "phone", "languages",
)
# What a caseworker of a former owner sees of a case: the case as its agency
# handed it over, whatever the new owner does with it afterwards.
FORMER_OWNER_FIELDS = ("id", "reference", "status", "access")
# What a caller with limited access sees of a case — and nothing else.
LIMITED_FIELDS = ("id", "reference", "status", "priority", "vulnerabilities", "member_count", "border_point",
                  "owner_agency", "access")
# What a caller with full access sees of a case.
FULL_FIELDS = (*LIMITED_FIELDS, "summary", "closure_reason", "closure_note", "closed_at", "assigned_to", "members",
               "anonymised_at", "created_at", "updated_at")


COUNTRY_CODES = [code for code, _name in countries]


class CountryCodeField(serializers.ChoiceField):
    """An ISO 3166-1 alpha-2 code as the contract lists them (upper case), or
    empty when unknown."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("help_text", _("ISO 3166-1 alpha-2 code, or empty when unknown."))
        super().__init__(choices=COUNTRY_CODES, **kwargs)

    # Every serializer instance copies its fields, and a copy of a choice field
    # indexes its choices again: for 249 countries, a third of the cost of
    # reading a case's input. The index is the same for every copy (and never
    # changed): built once.
    _shared_index = None

    def _set_choices(self, choices):
        if choices is not COUNTRY_CODES:
            return super()._set_choices(choices)
        if CountryCodeField._shared_index is None:
            super()._set_choices(choices)
            CountryCodeField._shared_index = (self.grouped_choices, self._choices, self.choice_strings_to_values)
        self.grouped_choices, self._choices, self.choice_strings_to_values = CountryCodeField._shared_index
        return None

    choices = property(serializers.ChoiceField._get_choices, _set_choices)

    def to_representation(self, value):
        return str(value or "")


class CountryCodeSchema(OpenApiSerializerFieldExtension):
    """The codes alone: a list of 249 "code - name" lines in every description helps no one."""

    target_class = CountryCodeField

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        return {"type": "string", "enum": [*COUNTRY_CODES, *([""] if field.allow_blank else [])]}


# --- Out ---------------------------------------------------------------------

class PersonSerializer(serializers.ModelSerializer):
    nationality = CountryCodeField(read_only=True)
    document_country = CountryCodeField(read_only=True)

    class Meta:
        model = Person
        fields = ["id", *PERSONAL_FIELDS, "created_at", "updated_at"]
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer):
    """A member: the relationship and the person's fields, flattened. The
    schema only: members are rendered by ``members_representation``."""

    person = serializers.UUIDField(source="person_id", read_only=True)
    given_names = serializers.CharField(source="person.given_names", read_only=True)
    family_names = serializers.CharField(source="person.family_names", read_only=True)
    sex = serializers.ChoiceField(source="person.sex", choices=Sex.choices, read_only=True)
    date_of_birth = serializers.DateField(source="person.date_of_birth", read_only=True, allow_null=True)
    date_of_birth_is_estimate = serializers.BooleanField(source="person.date_of_birth_is_estimate", read_only=True)
    nationality = CountryCodeField(source="person.nationality", read_only=True)
    document_type = serializers.ChoiceField(source="person.document_type", choices=DocumentType.choices,
                                            read_only=True)
    document_country = CountryCodeField(source="person.document_country", read_only=True)
    document_number = serializers.CharField(source="person.document_number", read_only=True)
    phone = serializers.CharField(source="person.phone", read_only=True)
    languages = serializers.ListField(source="person.languages", child=serializers.CharField(), read_only=True)

    class Meta:
        model = CaseMember
        fields = ["person", "relationship", *PERSONAL_FIELDS, "added_at"]
        read_only_fields = fields

    def to_representation(self, instance):
        raise NotImplementedError("Members are rendered by members_representation; this class is the schema only.")


class CreatedMemberSerializer(MemberSerializer):
    matched_existing = serializers.SerializerMethodField(
        help_text="True when the member's document matched a person you already see, who was linked "
                  "instead of being registered twice.")

    class Meta(MemberSerializer.Meta):
        fields = [*MemberSerializer.Meta.fields, "matched_existing"]
        read_only_fields = fields

    def get_matched_existing(self, membership) -> bool:
        raise NotImplementedError  # the schema only


# Each view names the access it is shown for, so that the two shapes of a case
# in the schema (``oneOf``) never both fit one body.
FULL_ACCESS_CHOICES = [(value, value) for value in Access.values if value in FULL_ACCESS]
LIMITED_ACCESS_CHOICES = [(Access.LIMITED.value, Access.LIMITED.value)]
FORMER_OWNER_ACCESS_CHOICES = [(Access.FORMER_OWNER.value, Access.FORMER_OWNER.value)]


class SchemaOnly:
    """A serializer that declares a shape for the schema and the browsable
    API, and never renders one: a case is rendered by ``cases_representation``
    alone, so that a rule about what a case shows has one place to live."""

    def to_representation(self, instance):
        raise NotImplementedError("A case is rendered by cases_representation; this class is the schema only.")


class CaseFormerOwnerSerializer(SchemaOnly, serializers.ModelSerializer):
    """A former owner's view: the reference, and the status the case had when
    the agency transferred it (frozen: the new owner's later work never shows)."""

    access = serializers.ChoiceField(choices=FORMER_OWNER_ACCESS_CHOICES, read_only=True)

    class Meta:
        model = Case
        fields = list(FORMER_OWNER_FIELDS)
        read_only_fields = fields


class CaseLimitedSerializer(SchemaOnly, serializers.ModelSerializer):
    """The limited view: no names, documents, phones, dates of birth or notes."""

    vulnerabilities = serializers.ListField(child=serializers.ChoiceField(choices=Vulnerability.choices),
                                            read_only=True)
    owner_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    access = serializers.ChoiceField(choices=LIMITED_ACCESS_CHOICES, read_only=True)

    class Meta:
        model = Case
        fields = list(LIMITED_FIELDS)
        read_only_fields = fields


class CaseSerializer(CaseLimitedSerializer):
    """A case read in full (owner, collaborator, secretariat)."""

    access = serializers.ChoiceField(choices=FULL_ACCESS_CHOICES, read_only=True)
    assigned_to = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    members = MemberSerializer(source="memberships", many=True, read_only=True)

    class Meta:
        model = Case
        fields = list(FULL_FIELDS)
        read_only_fields = fields


class CaseCreatedSerializer(CaseSerializer):
    members = CreatedMemberSerializer(source="created_memberships", many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        pass


class CaseAnySerializer(SchemaOnly, serializers.BaseSerializer):
    """The full or the limited view, as the caller's ``access`` allows (the
    schema of it is ``case_any_schema``)."""


# --- Out: the one renderer of a case ---------------------------------------------
#
# Every answer that carries a case (list, detail, creation, change, close,
# reopen) is built here, from plain rows: the columns of ``CASE_ROW_FIELDS``
# read with ``.values()``, or the same names read off the objects a creation
# has in hand (``case_created_representation``). A page of the list is 50
# cases and some 3,000 values; a model object per row and the serializer's
# fields for every value cost ten times the rest of the request
# (docs/performance.md). The serializers above are the schema; the field
# table (``LIMITED_FIELDS``, ``FULL_FIELDS``, ``MEMBER_FIELDS``) is shared,
# and ``_check_field_table`` refuses to import if the two part ways.

VULNERABILITY_COLUMNS = tuple((flag, vulnerability_field(flag)) for flag in VULNERABILITIES)
CASE_ROW_FIELDS = (
    "id", "reference", "status", "priority", *(column for _flag, column in VULNERABILITY_COLUMNS), "member_count",
    "border_point", "owner_agency__code", "access", "summary", "closure_reason", "closure_note", "closed_at",
    "assigned_to__username", "anonymised_at", "created_at", "updated_at",
)
MEMBER_ROW_FIELDS = ("case_id", "person_id", "relationship", "added_at",
                     *(f"person__{name}" for name in PERSONAL_FIELDS), "person__anonymised_at")
# What a member of an anonymised case shows when the person lives on in another case.
ANONYMISED_MEMBER = {"given_names": "", "family_names": "", "date_of_birth": None,
                     "date_of_birth_is_estimate": False, "document_type": DocumentType.NONE.value,
                     "document_country": "", "document_number": "", "phone": "", "languages": []}


def case_rows(queryset, *extra):
    """The columns ``cases_representation`` needs (and ``extra`` ones, such as
    a list's sort key), as dictionaries."""
    return queryset.values(*CASE_ROW_FIELDS, *extra)


def _datetime(value, zone):
    # As DRF's DateTimeField with DATETIME_FORMAT "iso-8601": in the current zone, UTC written "Z".
    if not value:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _member(row: dict, case_anonymised: bool, zone) -> dict:
    date_of_birth, languages = row["person__date_of_birth"], row["person__languages"]
    member = {
        "person": str(row["person_id"]),
        "relationship": row["relationship"],
        "given_names": row["person__given_names"],
        "family_names": row["person__family_names"],
        "sex": row["person__sex"],
        "date_of_birth": None if date_of_birth is None else date_of_birth.isoformat(),
        "date_of_birth_is_estimate": bool(row["person__date_of_birth_is_estimate"]),
        "nationality": row["person__nationality"] or "",
        "document_type": row["person__document_type"],
        "document_country": row["person__document_country"] or "",
        "document_number": row["person__document_number"],
        "phone": row["person__phone"],
        "languages": None if languages is None else [None if item is None else str(item) for item in languages],
        "added_at": _datetime(row["added_at"], zone),
    }
    if case_anonymised and row["person__anonymised_at"] is None:
        # The person lives on in another agency's case; this expired case no longer shows them.
        member.update(ANONYMISED_MEMBER)
        member["languages"] = []
    return member


def _case(row: dict, members: list, zone) -> dict:
    if row["access"] == Access.FORMER_OWNER:
        return {"id": str(row["id"]), "reference": row["reference"], "status": FORMER_OWNER_STATUS.value,
                "access": row["access"]}
    case = {
        "id": str(row["id"]),
        "reference": row["reference"],
        "status": row["status"],
        "priority": row["priority"],
        "vulnerabilities": [flag for flag, column in VULNERABILITY_COLUMNS if row[column]],
        "member_count": row["member_count"],
        "border_point": row["border_point"],
        "owner_agency": row["owner_agency__code"],
        "access": row["access"],
    }
    if row["access"] not in FULL_ACCESS:
        return case
    anonymised_at = row["anonymised_at"]
    case.update(
        summary=row["summary"],
        closure_reason=row["closure_reason"],
        closure_note=row["closure_note"],
        closed_at=_datetime(row["closed_at"], zone),
        assigned_to=row["assigned_to__username"],
        members=[_member(member, anonymised_at is not None, zone) for member in members],
        anonymised_at=_datetime(anonymised_at, zone),
        created_at=_datetime(row["created_at"], zone),
        updated_at=_datetime(row["updated_at"], zone),
    )
    return case


def cases_representation(rows) -> list[dict]:
    """Rows of ``case_rows`` as every case answer shows them; the members of
    the cases read in full in one query."""
    full_ids = [row["id"] for row in rows if row["access"] in FULL_ACCESS]
    members = defaultdict(list)
    if full_ids:
        for member in (CaseMember.objects.filter(case_id__in=full_ids).order_by("added_at", "id")
                       .values(*MEMBER_ROW_FIELDS)):
            members[member["case_id"]].append(member)
    zone = timezone.get_current_timezone()
    return [_case(row, members[row["id"]], zone) for row in rows]


def _read(obj, path: str):
    """``obj.a.b`` for the row field ``a__b``, as ``.values()`` gives it back:
    None through a missing relation, a choice as its plain value, a country as
    its code."""
    for name in path.split("__"):
        obj = None if obj is None else getattr(obj, name)
    if isinstance(obj, enum.Enum):
        return obj.value
    return getattr(obj, "code", obj) if obj.__class__.__name__ == "Country" else obj


def members_representation(memberships, *, case, created: bool = False) -> list[dict]:
    """Memberships of ``case`` (their people loaded) as the members endpoints
    show them, by the renderer of the members of a case. Members just
    ``created`` (``member_add``) also say whether they ``matched_existing``."""
    zone = timezone.get_current_timezone()
    members = [_member({name: _read(membership, name) for name in MEMBER_ROW_FIELDS}, case.anonymised_at is not None,
                       zone) for membership in memberships]
    if created:
        for member, membership in zip(members, memberships, strict=True):
            member["matched_existing"] = getattr(membership, "matched_existing", False)
    return members


def case_created_representation(case) -> dict:
    """A creation's answer from the objects ``case_create`` returns, without
    a query: the rows are read off the objects with the same field names, and
    rendered by the same ``_case``. (A creation's answer is built while the
    year's reference counter is locked, until commit: every millisecond here
    is one every other creation waits.)"""
    row = {name: _read(case, name) for name in CASE_ROW_FIELDS}
    members = [{name: _read(membership, name) for name in MEMBER_ROW_FIELDS} for membership in case.created_memberships]
    data = _case(row, members, timezone.get_current_timezone())
    for member, membership in zip(data["members"], case.created_memberships, strict=True):
        member["matched_existing"] = getattr(membership, "matched_existing", False)
    return data


def _check_field_table() -> None:
    """The schema and the renderer list the same fields in the same order."""
    zone = datetime.UTC
    member = dict.fromkeys(MEMBER_ROW_FIELDS)
    row = {**dict.fromkeys(CASE_ROW_FIELDS), "access": Access.OWNER.value}
    rendered = _case(row, [member], zone)
    declared = {"former owner": list(CaseFormerOwnerSerializer.Meta.fields),
                "limited": list(CaseLimitedSerializer.Meta.fields), "full": list(CaseSerializer.Meta.fields),
                "member": list(MemberSerializer.Meta.fields),
                "created member": list(CreatedMemberSerializer.Meta.fields)}
    have = {"former owner": list(_case({**row, "access": Access.FORMER_OWNER.value}, [], zone)),
            "limited": list(_case({**row, "access": Access.LIMITED.value}, [], zone)), "full": list(rendered),
            "member": list(rendered["members"][0]), "created member": [*rendered["members"][0], "matched_existing"]}
    for name, fields in declared.items():
        if fields != have[name]:
            raise ImproperlyConfigured(f"The {name} case fields of the schema and of the renderer differ: "
                                       f"{fields} != {have[name]}")


_check_field_table()


def case_any_schema(many: bool = False) -> PolymorphicProxySerializer:
    """For the schema: the view of a case depends on ``access``."""
    return PolymorphicProxySerializer(
        component_name="CaseAnyAccess",
        serializers={Access.OWNER.value: CaseSerializer, Access.COLLABORATOR.value: CaseSerializer,
                     Access.OVERSIGHT.value: CaseSerializer, Access.LIMITED.value: CaseLimitedSerializer,
                     Access.FORMER_OWNER.value: CaseFormerOwnerSerializer},
        resource_type_field_name="access",
        many=many,
    )


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Note
        fields = ["id", "body", "visibility", "author", "agency", "created_at"]
        read_only_fields = fields


class ConsentSerializer(serializers.ModelSerializer):
    given_by = serializers.UUIDField(source="given_by_id", read_only=True)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    agency = serializers.SlugRelatedField(source="recorded_by_agency", slug_field="code", read_only=True)
    withdrawn_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = Consent
        fields = ["id", "scope", "method", "given_at", "given_by", "recorded_by", "agency", "is_active",
                  "withdrawn_at", "withdrawn_by", "created_at"]
        read_only_fields = fields


class HistoryEntrySerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    changes = serializers.DictField(
        child=serializers.ListField(allow_empty=True, min_length=2, max_length=2), read_only=True,
        help_text="`{field: [old, new]}`; null where there was no value (or where retention erased it).")

    class Meta:
        model = HistoryEntry
        fields = ["at", "actor", "agency", "action", "object_type", "object_id", "changes"]
        read_only_fields = fields


# --- In ----------------------------------------------------------------------

class PersonFieldsSerializer(serializers.Serializer):
    given_names = StrictCharField(max_length=200, required=False)
    family_names = StrictCharField(max_length=200, required=False, allow_blank=True)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    date_of_birth = serializers.DateField(required=False, allow_null=True, help_text=_("Not in the future."))
    date_of_birth_is_estimate = StrictBooleanField(required=False)
    nationality = CountryCodeField(required=False)
    document_type = serializers.ChoiceField(
        choices=DocumentType.choices, required=False,
        help_text=_("`none` exactly when there is no document number."))
    document_country = CountryCodeField(required=False)
    document_number = StrictCharField(max_length=50, required=False, allow_blank=True)
    phone = StrictCharField(max_length=40, required=False, allow_blank=True)
    languages = serializers.ListField(child=StrictCharField(max_length=20), max_length=10, required=False)


class NewMemberSerializer(PersonFieldsSerializer):
    """A person registered with the case."""

    relationship = serializers.ChoiceField(choices=Relationship.choices)
    given_names = StrictCharField(max_length=200)


class ExistingMemberSerializer(serializers.Serializer):
    """A person you already see on one of your cases, by id; nothing else about them."""

    relationship = serializers.ChoiceField(choices=Relationship.choices)
    person = serializers.UUIDField()


class MemberInputSerializer(PersonFieldsSerializer):
    """A new person (``given_names`` required), or ``person``: the id of a
    person you already see on one of your cases — never both. The schema
    shows the two shapes (``NewMember`` and ``ExistingMember``)."""

    relationship = serializers.ChoiceField(choices=Relationship.choices)
    person = serializers.UUIDField(required=False)

    def validate(self, attrs):
        if "person" in attrs and set(attrs) - {"person", "relationship"}:
            raise serializers.ValidationError(
                {"person": _("Give either an existing person or the details of a new one, not both.")},
                code="person_or_details")
        if "person" not in attrs and "given_names" not in attrs:
            raise serializers.ValidationError({"given_names": [ErrorDetail(_("This field is required."),
                                                                           code="required")]})
        return attrs


class MemberInputSchema(OpenApiSerializerExtension):
    """``MemberInput`` is one of two shapes, told apart the way the server
    tells them apart: with ``person`` and no personal field, or without
    ``person`` and with ``given_names``."""

    target_class = MemberInputSerializer

    def map_serializer(self, auto_schema, direction):
        new = auto_schema.resolve_serializer(NewMemberSerializer, direction)
        existing = auto_schema.resolve_serializer(ExistingMemberSerializer, direction)
        return {"oneOf": [new.ref, existing.ref]}


class _ExclusiveMemberSchema(OpenApiSerializerExtension):
    # ``excludes`` names each field under ``properties`` as well as ``required``:
    # the same rule, in the form linters (Redocly) can check the names of.
    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["not"] = self.excludes
        return schema


class NewMemberSchema(_ExclusiveMemberSchema):
    target_class = NewMemberSerializer
    excludes = {"properties": {"person": {}}, "required": ["person"]}


class ExistingMemberSchema(_ExclusiveMemberSchema):
    target_class = ExistingMemberSerializer
    excludes = {"anyOf": [{"properties": {name: {}}, "required": [name]} for name in PERSONAL_FIELDS]}


class MemberUpdateSerializer(serializers.Serializer):
    relationship = serializers.ChoiceField(choices=Relationship.choices, required=False,
                                           help_text="Left out: the relationship stays as it is.")
    previous_head_relationship = serializers.ChoiceField(
        choices=Relationship.choices, required=False,
        help_text="When making this member the head: what the current head becomes.")


class CaseUpdateSerializer(serializers.Serializer):
    summary = StrictCharField(required=False, allow_blank=True, max_length=10000)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    vulnerabilities = serializers.ListField(child=serializers.ChoiceField(choices=Vulnerability.choices),
                                            required=False, max_length=len(Vulnerability.values))
    border_point = serializers.ChoiceField(choices=BorderPoint.choices, required=False)
    assigned_to = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=150,
                                  help_text="Username of a caseworker of the owner agency, or null.")


class CaseCreateSerializer(CaseUpdateSerializer):
    assigned_to = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=150,
                                  help_text="Username of a caseworker of your agency.")
    members = MemberInputSerializer(many=True, allow_empty=False, max_length=50,
                                    help_text=_("The family: exactly one `head`."))


class CaseCloseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ClosureReason.choices)
    note = StrictCharField(required=False, allow_blank=True, max_length=10000)


class NoteInputSerializer(serializers.Serializer):
    body = StrictCharField(max_length=20000)
    visibility = serializers.ChoiceField(choices=NoteVisibility.choices, required=False)


class ConsentInputSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=ConsentScope.choices)
    method = serializers.ChoiceField(choices=ConsentMethod.choices)
    given_at = DateTimeField(help_text=_("Not in the future."))
    given_by = serializers.UUIDField(help_text="Id of the person, a member of the case, who gave the consent.")


class NoBodySerializer(serializers.Serializer):
    """Actions that take no body."""
