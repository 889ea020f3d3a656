from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .health import run_checks


@never_cache
@require_GET
def healthz(request):
    """No authentication: load balancers and operators call it. Names no secrets."""
    checks = run_checks()
    healthy = all(item["status"] == "ok" for item in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


class Ping(APIView):
    """The cheapest authenticated request the API answers: token check,
    throttle, a constant body. Benchmarks measure every endpoint against it."""

    @extend_schema(
        summary="Check that the API answers and the token is valid",
        responses={200: inline_serializer("Ping", {"ok": serializers.BooleanField()})},
        tags=["health"],
    )
    def get(self, request):
        return Response({"ok": True})
