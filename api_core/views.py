from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

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
