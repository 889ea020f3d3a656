"""Committee reads that depend on who is asking."""


def case_ids_on_agendas_of_member(user):
    """Ids (a queryset) of cases on an agenda of a committee ``user`` belongs
    to; None while there are no committees to belong to."""
    return None
