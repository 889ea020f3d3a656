"""What caches may keep (api_core.http_cache): no-store on every answer whose
view chose nothing else, and 304 Not Modified for a read whose ETag the client
names in If-None-Match."""
import pytest

from cases.models import Case


@pytest.mark.django_db
class TestNoStore:
    def test_case_and_person_reads_and_lists_are_not_stored(self, client_for, pe_caseworker, family_case):
        client = client_for(pe_caseworker)
        person = family_case.members.first()
        for path in (f"/api/v1/cases/{family_case.pk}/", "/api/v1/cases/", f"/api/v1/people/{person.pk}/",
                     "/api/v1/me/"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert response["Cache-Control"] == "no-store", path

    def test_a_one_time_secret_is_not_stored(self, client_for, pe_caseworker, settings):
        response = client_for(pe_caseworker).post(
            "/api/v1/webhooks/", {"url": "https://casos.migraciones.example/puente", "event_types": []},
            format="json")
        assert response.status_code == 201, response.content
        assert response.json()["secret"].startswith("whsec_")
        assert response["Cache-Control"] == "no-store"

    def test_errors_and_pages_outside_the_api_are_not_stored_either(self, client_for, pe_caseworker, api_client):
        assert api_client.get("/api/v1/cases/")["Cache-Control"] == "no-store"  # 401
        assert client_for(pe_caseworker).get("/api/v1/nothing-here/")["Cache-Control"] == "no-store"
        assert api_client.get("/healthz")["Cache-Control"].startswith(("no-store", "max-age=0"))

    def test_a_view_that_chose_its_own_caching_keeps_it(self, rf):
        from django.http import HttpResponse

        from api_core.http_cache import CacheRulesMiddleware

        def view(request):
            response = HttpResponse("BEGIN:VCALENDAR")
            response["Cache-Control"] = "private, no-cache"
            return response

        assert CacheRulesMiddleware(view)(rf.get("/"))["Cache-Control"] == "private, no-cache"


@pytest.mark.django_db
class TestConditionalGet:
    def test_a_current_etag_is_304_without_a_body(self, client_for, pe_caseworker, family_case):
        client = client_for(pe_caseworker)
        first = client.get(f"/api/v1/cases/{family_case.pk}/")
        again = client.get(f"/api/v1/cases/{family_case.pk}/", HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304
        assert again.content == b""
        assert again["ETag"] == first["ETag"] and again["Cache-Control"] == "no-store"

    @pytest.mark.parametrize("header", ['W/{tag}', '"other", {tag}', "*"])
    def test_the_forms_of_if_none_match(self, client_for, pe_caseworker, family_case, header):
        client = client_for(pe_caseworker)
        tag = client.get(f"/api/v1/cases/{family_case.pk}/")["ETag"]
        response = client.get(f"/api/v1/cases/{family_case.pk}/", HTTP_IF_NONE_MATCH=header.format(tag=tag))
        assert response.status_code == 304

    def test_a_stale_etag_gets_the_new_body(self, client_for, pe_caseworker, family_case):
        client = client_for(pe_caseworker)
        stale = client.get(f"/api/v1/cases/{family_case.pk}/")["ETag"]
        client.patch(f"/api/v1/cases/{family_case.pk}/", {"summary": "Otra"}, format="json")
        response = client.get(f"/api/v1/cases/{family_case.pk}/", HTTP_IF_NONE_MATCH=stale)
        assert response.status_code == 200
        assert response.json()["summary"] == "Otra" and response["ETag"] != stale

    def test_person_reads_too(self, client_for, pe_caseworker, family_case):
        client = client_for(pe_caseworker)
        path = f"/api/v1/people/{family_case.members.first().pk}/"
        assert client.get(path, HTTP_IF_NONE_MATCH=client.get(path)["ETag"]).status_code == 304

    def test_a_write_with_a_matching_tag_is_not_turned_into_a_304(self, client_for, pe_caseworker, family_case):
        client = client_for(pe_caseworker)
        tag = client.get(f"/api/v1/cases/{family_case.pk}/")["ETag"]
        response = client.patch(f"/api/v1/cases/{family_case.pk}/", {"summary": "Nueva"}, format="json",
                                HTTP_IF_NONE_MATCH=tag, HTTP_IF_MATCH=tag)
        assert response.status_code == 200
        assert Case.objects.get(pk=family_case.pk).summary == "Nueva"

    def test_a_case_the_caller_may_not_see_is_still_404(self, client_for, outsider, family_case):
        response = client_for(outsider).get(f"/api/v1/cases/{family_case.pk}/", HTTP_IF_NONE_MATCH="*")
        assert response.status_code == 404

    def test_the_schema_offers_if_none_match_where_an_etag_is_sent(self):
        from api_core.schema import SchemaGenerator

        schema = SchemaGenerator().get_schema(request=None, public=True)
        case_read = schema["paths"]["/api/v1/cases/{case_id}/"]["get"]
        assert "If-None-Match" in {parameter["name"] for parameter in case_read["parameters"]}
        assert "304" in case_read["responses"]
        assert "304" not in schema["paths"]["/api/v1/cases/"]["get"]["responses"]
