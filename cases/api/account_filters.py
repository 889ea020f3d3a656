import django_filters

from cases.models import Agency


class AgencyFilter(django_filters.FilterSet):
    class Meta:
        model = Agency
        fields = ["country", "kind", "active"]
