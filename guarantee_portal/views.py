from django.db import connection
from django.db.models import Count, Value
from django.db.models.functions import Concat, Substr
from django.http import JsonResponse
from django.shortcuts import render

from accounts.models import Region
from core.inbox import request_tasks
from core.permissions import public, signed_in
from institutions.models import Institution


@signed_in
def home(request):
    """Role-specific workbench: the user's scope and what it holds."""
    user = request.user
    institutions = Institution.objects.for_user(user)
    tasks = request_tasks(request)
    context = {"institution_count": institutions.count(), "tasks": tasks[:5], "more_tasks": len(tasks) > 5}
    if user.region_id:
        region = user.region
        # Institutions per directly subordinate region (cities of a province, counties of a city).
        digits = 4 if region.level == "province" else 6
        per_child = dict(
            institutions.exclude(region_id=region.code)
            .annotate(child=Concat(Substr("region_id", 1, digits), Value("0" * (6 - digits))))
            .values_list("child")
            .annotate(n=Count("id"))
            .values_list("child", "n")
        )
        names = dict(Region.objects.filter(code__in=per_child).values_list("code", "name"))
        context.update(
            region=region,
            own_level_count=institutions.filter(region_id=region.code).count(),
            by_child=[  # each bar drills down to the registry of that region
                {"name": names.get(code, code), "value": n, "url": f"/institutions/?region={code}"}
                for code, n in sorted(per_child.items())
            ],
            by_level=dict(
                institutions.values_list("level").annotate(n=Count("id")).values_list("level", "n")
            ),
        )
    elif user.institution_id:
        context["institution"] = user.institution
    return render(request, "home.html", context)


@public
def health(request):
    """Liveness for the load balancer and compose health checks: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "regions": Region.objects.exists()})
