from django.urls import path

from . import measure_views, rating_views, report_views, views

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
    path("measures/", measure_views.measure_list, name="measures"),
    path("measures/new/", measure_views.measure_new, name="measure_new"),
    path("measures/<int:pk>/", measure_views.measure_detail, name="measure_detail"),
    *[
        path(
            f"measures/<int:pk>/document.{fmt}",
            measure_views.measure_document_file,
            {"fmt": fmt},
            name=f"measure_document_{fmt}",
        )
        for fmt in ("docx", "pdf")
    ],
    path("measures/evidence/<int:pk>/", measure_views.measure_evidence, name="measure_evidence"),
    path("inspections/<int:pk>/", measure_views.inspection_detail, name="inspection_detail"),
    path("nonfilers/", measure_views.nonfilers, name="nonfilers"),
    path("nonfilers/<int:pk>/", measure_views.nonfiler_detail, name="nonfiler_detail"),
    path("ratings/", rating_views.rating_list, name="ratings"),
    path("ratings/<int:pk>/", rating_views.rating_detail, name="rating_detail"),
    path("reports/annual/", report_views.annual_report, name="annual_report"),
    *[
        path(
            f"reports/annual/export.{fmt}",
            report_views.annual_report_export,
            {"fmt": fmt},
            name=f"annual_report_{fmt}",
        )
        for fmt in ("docx", "pdf")
    ],
    *[
        path(
            f"reports/quarter-pack.{fmt}",
            report_views.quarter_pack_export,
            {"fmt": fmt},
            name=f"quarter_pack_{fmt}",
        )
        for fmt in ("docx", "pdf")
    ],
    path("reports/annual-table.xlsx", report_views.annual_table_xlsx, name="annual_table_xlsx"),
    *[
        path(
            f"reports/annual-table.{fmt}",
            report_views.annual_table_export,
            {"fmt": fmt},
            name=f"annual_table_{fmt}",
        )
        for fmt in ("docx", "pdf")
    ],
]
