import threading

from django.core.signals import setting_changed
from django.http import HttpResponse, JsonResponse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .health import ESSENTIAL, run_checks
from .schema import SCHEMA_LANGUAGE


@never_cache
@require_GET
def healthz(request):
    """No authentication: load balancers and operators call it. Names no secrets.

    ``ok`` (200): every check passed. ``degraded`` (200): the database answers
    but the cache or the broker does not; requests, writes included, still
    succeed (events and deadlines wait in PostgreSQL), so a load balancer must
    keep this process in service, while monitoring alerts on the status.
    ``unavailable`` (503): the database does not answer."""
    checks = run_checks()
    failing = {name for name, item in checks.items() if item["status"] != "ok"}
    if not failing:
        status = "ok"
    elif failing & ESSENTIAL:
        status = "unavailable"
    else:
        status = "degraded"
    return JsonResponse({"status": status, "checks": checks}, status=503 if status == "unavailable" else 200)


class Ping(APIView):
    """The cheapest authenticated request the API answers: token check,
    throttle, a constant body. Benchmarks measure every endpoint against it."""

    @extend_schema(
        summary="Check that the API answers and the token is valid",
        description="The cheapest authenticated request; changes nothing.",
        responses={200: inline_serializer("Ping", {"ok": serializers.BooleanField()})},
        tags=["health"],
    )
    def get(self, request):
        return Response({"ok": True})


class InSchemaLanguage:
    """The schema and the pages that show it say which language they are in:
    the schema's own, not the caller's (``api_core.schema.SchemaGenerator``)."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code == 200:
            response["Content-Language"] = SCHEMA_LANGUAGE
        return response


# The docs pages load nothing from another host: agencies read them offline, and
# a request elsewhere would tell that host who reads them. Their scripts and
# styles are inline; ReDoc builds its search worker from a blob.
DOCS_PAGE_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self' 'unsafe-inline'", "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:", "font-src 'self' data:", "worker-src 'self' blob:", "connect-src 'self'",
    "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
])


class DocsPage(InSchemaLanguage):
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_PAGE_POLICY
        return response


# The schema of a running process never changes (a deploy starts new
# processes), and building and rendering it took 0.2-0.7 s for 420 KB: each
# process builds it once per version, language and format, and keeps the bytes.
_built_schemas: dict[tuple, tuple[bytes, str, str]] = {}
_building = threading.Lock()


def forget_built_schemas(**kwargs) -> None:
    """Build the schema again at the next request (a signal receiver as well:
    a test that changes a setting may change the schema)."""
    _built_schemas.clear()


setting_changed.connect(forget_built_schemas, dispatch_uid="api_core.views.forget_built_schemas")


class SchemaView(InSchemaLanguage, SpectacularAPIView):
    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (type(self), version, translation.get_language(), request.accepted_media_type)
        built = _built_schemas.get(key)
        if built is None:
            with _building:  # one build at a time; a request waiting for it takes the result
                built = _built_schemas.get(key) or self._build(request)
                _built_schemas[key] = built
        content, content_type, disposition = built
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = disposition
        return response

    def _build(self, request) -> tuple[bytes, str, str]:
        response = super()._get_schema_response(request)
        response.accepted_renderer = request.accepted_renderer
        response.accepted_media_type = request.accepted_media_type
        response.renderer_context = self.get_renderer_context()
        response.render()
        return response.content, response["Content-Type"], response["Content-Disposition"]


class SwaggerView(DocsPage, SpectacularSwaggerView):
    pass


class RedocView(DocsPage, SpectacularRedocView):
    """ReDoc without the web fonts its stock page loads from Google; the
    policy stops the Redocly logo its menu fetches from a CDN."""

    template_name = "api_docs/redoc.html"
