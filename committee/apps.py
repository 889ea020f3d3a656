from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommitteeConfig(AppConfig):
    name = "committee"
    verbose_name = _("Committee")

    def ready(self):
        from cases.selectors import register_agenda_case_provider

        from .selectors import case_ids_on_agendas_of_member

        # Committee members see the cases on their agendas (limited view);
        # cases asks through this provider instead of importing committee.
        register_agenda_case_provider(case_ids_on_agendas_of_member)
