from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("indicators/", views.dashboard, name="dashboard"),
    path("indicators/drill/", views.indicator_drill, name="indicator_drill"),
    path("indicators/filing/<int:pk>/", views.filing_indicators, name="filing_indicators"),
    path("indicators/institution/<int:pk>/", views.institution_indicators, name="institution_indicators"),
    path("warnings/", views.warning_list, name="warnings"),
    path("warnings/<int:pk>/", views.warning_detail, name="warning_detail"),
    path("thresholds/", views.thresholds, name="thresholds"),
    path("thresholds/parameters/", views.parameters, name="parameters"),
    path("thresholds/parameters/preview/<int:pk>/", views.parameter_preview, name="parameter_preview"),
    path("thresholds/new/", views.threshold_edit, name="threshold_new"),
    path("thresholds/<int:pk>/", views.threshold_edit, name="threshold_detail"),
]
