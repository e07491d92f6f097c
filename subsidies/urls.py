from django.urls import path

from . import views

app_name = "subsidies"

urlpatterns = [
    path("", views.index, name="index"),
    path("applications/", views.application_list, name="applications"),
    path("applications/export.xlsx", views.export_applications, name="export"),
    path("applications/batch-approve/", views.batch_approve, name="batch_approve"),
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("applications/<int:pk>/lines.xlsx", views.export_lines, name="lines_export"),
    path("applications/<int:pk>/<str:step>/", views.act, name="act"),
    path("schemes/", views.scheme_list, name="schemes"),
    path("schemes/new/", views.scheme_new, name="scheme_new"),
    path("schemes/<slug:code>/", views.scheme_detail, name="scheme"),
    path("schemes/<slug:code>/apply/", views.apply, name="apply"),
    path("schemes/<slug:code>/allocate/", views.allocate, name="allocate"),
    path("budget/", views.budget, name="budget"),
    path("payments/", views.payments, name="payments"),
    path("publicity/", views.publicity, name="publicity"),
    path("publicity.csv", views.publicity_csv, name="publicity_csv"),
    path("publicity.json", views.publicity_json, name="publicity_json"),
]
