from django.urls import path

from . import views

app_name = "guarantees"

urlpatterns = [
    path("records/", views.records, name="records"),
    path("records/export.xlsx", views.records_export, {"fmt": "xlsx"}, name="records_export_xlsx"),
    path("records/export.csv", views.records_export, {"fmt": "csv"}, name="records_export_csv"),
    path("upload/", views.upload, name="upload"),
    path("templates/template.xlsx", views.template_download, {"name": "template.xlsx"}, name="template_xlsx"),
    path(
        "templates/guarantees.csv",
        views.template_download,
        {"name": "guarantees.csv"},
        name="template_guarantees",
    ),
    path("templates/events.csv", views.template_download, {"name": "events.csv"}, name="template_events"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("batches/<int:pk>/confirm/", views.batch_confirm, name="batch_confirm"),
    path("batches/<int:pk>/report.xlsx", views.batch_report, name="batch_report"),
    path("borrowers/", views.borrowers, name="borrowers"),
]
