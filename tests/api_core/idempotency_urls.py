"""The real API plus a small POST endpoint that creates an agency. The
endpoint opts into nothing: idempotency must reach it by default."""
import threading
import uuid

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.services import agency_upsert
from config.urls import urlpatterns as project_urlpatterns

PROBE_URL = "/api/v1/probes/"
OTHER_PROBE_URL = "/api/v1/probes/other/"


class Probe:
    """What the view did, and the controls a test has over it: a gate that
    holds a request inside the view, and failures for the next requests."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.runs = 0
            self.failures: list[str] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def start_run(self) -> str | None:
        with self.lock:
            self.runs += 1
            return self.failures.pop(0) if self.failures else None


probe = Probe()


class ProbeInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    hold = serializers.BooleanField(default=False)


class ProbeOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ProbeView(APIView):
    @extend_schema(request=ProbeInputSerializer, responses={201: ProbeOutputSerializer})
    def post(self, request):
        failure = probe.start_run()
        if failure == "crash":
            raise RuntimeError("the probe crashed")
        if failure == "unavailable":
            return Response({"detail": "try later"}, status=503)
        if failure == "throttled":
            raise exceptions.Throttled(wait=1)
        serializer = ProbeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data["hold"]:
            probe.entered.set()
            probe.release.wait(timeout=30)
        agency, _ = agency_upsert(code=f"probe-{uuid.uuid4().hex[:12]}", name=serializer.validated_data["name"],
                                  country="PE")
        return Response(ProbeOutputSerializer(agency).data, status=201,
                        headers={"Location": f"/api/v1/agencies/{agency.code}/"})


urlpatterns = [
    path("api/v1/probes/", ProbeView.as_view(), name="probe"),
    path("api/v1/probes/other/", ProbeView.as_view(), name="probe-other"),
    *project_urlpatterns,
]

handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
