from rest_framework.routers import SimpleRouter

from . import viewsets

router = SimpleRouter()
router.register("subsidy-schemes", viewsets.SchemeViewSet, basename="subsidy-scheme")
router.register("subsidy-applications", viewsets.ApplicationViewSet, basename="subsidy-application")
router.register("subsidy-publicity", viewsets.PublicityViewSet, basename="subsidy-publicity")

urlpatterns = router.urls
