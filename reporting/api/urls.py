from rest_framework.routers import SimpleRouter

from . import viewsets

router = SimpleRouter()
router.register("filings", viewsets.FilingViewSet, basename="filing")

urlpatterns = router.urls
