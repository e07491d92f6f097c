from django.urls import path

from .views import FilingIndicatorsView, InstitutionSeriesView, ThresholdsInForceView

urlpatterns = [
    path("filings/<int:pk>/indicators/", FilingIndicatorsView.as_view(), name="api-filing-indicators"),
    path(
        "institutions/<int:pk>/indicators/",
        InstitutionSeriesView.as_view(),
        name="api-institution-indicators",
    ),
    path(
        "institutions/<int:pk>/thresholds/",
        ThresholdsInForceView.as_view(),
        name="api-institution-thresholds",
    ),
]
