from django.urls import path

from . import views

app_name = "reporting"

urlpatterns = [
    path("filings/", views.filing_list, name="filings"),
    path("filings/<int:pk>/", views.filing_detail, name="filing"),
    path("filings/<int:pk>/changed/", views.filing_changed, name="filing_changed"),
    path("filings/<int:pk>/submit/", views.filing_submit, name="filing_submit"),
    path("filings/<int:pk>/amend/", views.filing_amend, name="filing_amend"),
    path("filings/<int:pk>/receipt/", views.receipt, name="receipt"),
    path("filings/<int:pk>/receipt.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("file/<str:period>/", views.filing_edit, name="filing_edit"),
    path("file/<str:period>/check/", views.filing_check, name="filing_check"),
    path("file/<str:period>/template.xlsx", views.excel_download, name="excel_download"),
    path("file/<str:period>/upload/", views.excel_upload, name="excel_upload"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/<int:pk>/", views.review, name="review"),
    path("completeness/", views.completeness, name="completeness"),
    path("completeness/remind/", views.remind, name="remind"),
    path("rules/", views.rules, name="rules"),
    path("due-dates/", views.due_settings, name="due_settings"),
    path("filings/<int:pk>/findings.xlsx", views.findings_workbook, name="findings_workbook"),
    path("rules/<int:pk>/history/", views.rule_history, name="rule_history"),
    path("exports/aggregate.xlsx", views.export_aggregate, name="export_aggregate"),
    path("exports/filings.csv", views.export_csv, name="export_csv"),
    path("notifications/", views.notifications, name="notifications"),
    path("filings/<int:pk>/reconciliation/", views.reconciliation_page, name="reconciliation"),
    path("file/<str:period>/prefill/", views.filing_prefill, name="filing_prefill"),
    path("tolerances/", views.tolerances, name="tolerances"),
]
