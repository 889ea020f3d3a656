"""Every model field the admin shows has a label of its own, translated: none
falls back to its code name ("recorded by agency" in an English-looking
heading on a Spanish page)."""
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import FieldDoesNotExist
from django.utils.functional import Promise

OUR_APPS = {"api_core", "cases", "committee", "dataprotection", "figures", "integrations", "outbox", "reminders",
            "signin"}


def _shown_names(model_admin) -> set[str]:
    names = set()
    for attribute in ("list_display", "fields", "readonly_fields", "list_filter"):
        names |= {name for name in getattr(model_admin, attribute, None) or [] if isinstance(name, str)}
    if getattr(model_admin, "fieldsets", None):
        names |= set(flatten_fieldsets(model_admin.fieldsets))
    return names


def test_every_field_the_admin_shows_has_a_translatable_label():
    unlabelled, checked = [], 0
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in OUR_APPS:
            continue
        for shown, shown_model in [(model_admin, model)] + [(inline, inline.model) for inline in model_admin.inlines]:
            for name in _shown_names(shown):
                try:
                    field = shown_model._meta.get_field(name.split("__")[0])
                except FieldDoesNotExist:
                    continue  # an admin method: its description is checked where it is written
                checked += 1
                if field.primary_key:
                    continue  # "ID" reads the same in both languages
                if not isinstance(getattr(field, "verbose_name", None), Promise):
                    unlabelled.append(f"{shown_model._meta.label}.{field.name}")
    assert checked > 100
    assert unlabelled == []
