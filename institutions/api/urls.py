from rest_framework.routers import SimpleRouter

from . import viewsets

router = SimpleRouter()
router.register("institutions", viewsets.InstitutionViewSet, basename="institution")
router.register("licences", viewsets.LicenceViewSet, basename="licence")
router.register("notices", viewsets.NoticeViewSet, basename="notice")
router.register("banks", viewsets.BankViewSet, basename="bank")
router.register("agreements", viewsets.AgreementViewSet, basename="agreement")
router.register("govlist-batches", viewsets.GovListBatchViewSet, basename="govlist-batch")

urlpatterns = router.urls
