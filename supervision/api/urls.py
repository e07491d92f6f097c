from rest_framework.routers import SimpleRouter

from . import measures, viewsets

router = SimpleRouter()
router.register(r"warnings", measures.WarningCaseViewSet, "warning-cases")
router.register(r"measure-types", measures.MeasureTypeViewSet, "measure-types")
router.register(r"measures", measures.MeasureViewSet, "measures")
router.register(r"ratings", measures.RatingViewSet, "ratings")
router.register(
    r"filings/(?P<filing_pk>[0-9]+)/indicators", viewsets.FilingIndicatorViewSet, "filing-indicators"
)
# an id (never 18 characters) before the credit code, so the old id paths still resolve
router.register(
    r"institutions/(?P<institution_id>[0-9]{1,17})/(?P<resource>indicators|thresholds)",
    viewsets.InstitutionByIdRedirectViewSet,
    "institution-by-id",
)
router.register(
    r"institutions/(?P<credit_code>[^/.]+)/indicators",
    viewsets.InstitutionIndicatorViewSet,
    "institution-indicators",
)
router.register(
    r"institutions/(?P<credit_code>[^/.]+)/thresholds",
    viewsets.InstitutionThresholdViewSet,
    "institution-thresholds",
)

urlpatterns = router.urls
