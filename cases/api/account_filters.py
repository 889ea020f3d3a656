from api_core.filters import FilterSet
from cases.models import Agency


class AgencyFilter(FilterSet):
    class Meta:
        model = Agency
        fields = ["country", "kind", "active"]
