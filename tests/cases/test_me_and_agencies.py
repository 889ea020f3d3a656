import pytest

from tests.factories import AgencyFactory


@pytest.mark.django_db
class TestMe:
    def test_it_describes_the_caller(self, client_for, cl_caseworker, settings):
        settings.PUENTE = {**settings.PUENTE, "MAX_CONCURRENT_REQUESTS": 2}
        response = client_for(cl_caseworker).get("/api/v1/me/")
        assert response.status_code == 200
        assert response.json() == {
            "username": "cl.caseworker",
            "agency": {"code": "cl-sermig", "name": "Servicio Nacional de Migraciones", "country": "CL"},
            "roles": ["caseworker"],
            "language": "es",
            "time_zone": "America/Santiago",
            "max_concurrent_requests": 2,
        }

    def test_a_user_without_agency_has_null_agency(self, client_for, secretariat):
        body = client_for(secretariat).get("/api/v1/me/").json()
        assert body["agency"] is None
        assert body["roles"] == ["secretariat"]

    def test_it_sets_language_and_time_zone(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).patch(
            "/api/v1/me/", {"language": "en", "time_zone": "America/Santiago"}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["time_zone"] == "America/Santiago"
        pe_caseworker.refresh_from_db()
        assert (pe_caseworker.language, pe_caseworker.time_zone) == ("en", "America/Santiago")

    def test_it_ignores_fields_that_are_not_preferences(self, client_for, pe_caseworker, cl_agency):
        client_for(pe_caseworker).patch("/api/v1/me/", {"username": "x", "agency": "cl-sermig"}, format="json")
        pe_caseworker.refresh_from_db()
        assert pe_caseworker.username == "pe.caseworker"
        assert pe_caseworker.agency.code == "pe-migraciones"


@pytest.mark.django_db
class TestAgencies:
    def test_it_lists_agencies_to_any_authenticated_user(self, client_for, pe_caseworker, cl_agency):
        response = client_for(pe_caseworker).get("/api/v1/agencies/")
        assert response.status_code == 200
        codes = [agency["code"] for agency in response.json()["results"]]
        assert codes == ["cl-sermig", "pe-migraciones"]

    def test_it_requires_authentication(self, api_client, pe_agency):
        assert api_client.get("/api/v1/agencies/").status_code == 401

    def test_it_filters_by_country_kind_and_active(self, client_for, pe_caseworker, cl_agency, int_agency):
        AgencyFactory(code="cl-old", country="CL", active=False)
        client = client_for(pe_caseworker)

        def codes(query):
            return [a["code"] for a in client.get(f"/api/v1/agencies/?{query}").json()["results"]]

        assert codes("country=CL") == ["cl-old", "cl-sermig"]
        assert codes("country=CL&active=true") == ["cl-sermig"]
        assert codes("kind=international_organisation") == ["int-acnur-tacna"]

    def test_an_invalid_filter_is_a_validation_problem(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).get("/api/v1/agencies/?country=XX")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "country"

    def test_detail_is_by_code(self, client_for, pe_caseworker, cl_agency):
        response = client_for(pe_caseworker).get("/api/v1/agencies/cl-sermig/")
        assert response.status_code == 200
        assert response.json()["time_zone"] == "America/Santiago"

    def test_it_is_read_only(self, client_for, pe_caseworker, cl_agency):
        client = client_for(pe_caseworker)
        assert client.post("/api/v1/agencies/", {"code": "x"}, format="json").status_code == 405
        assert client.patch("/api/v1/agencies/cl-sermig/", {"name": "x"}, format="json").status_code == 405
        cl_agency.refresh_from_db()
        assert cl_agency.name == "Servicio Nacional de Migraciones"

    def test_the_page_size_is_capped(self, client_for, pe_caseworker):
        for n in range(205):
            AgencyFactory(code=f"bulk-{n:03d}")
        body = client_for(pe_caseworker).get("/api/v1/agencies/?page_size=1000").json()
        assert len(body["results"]) == 200
        assert body["next"]
