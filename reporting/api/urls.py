from django.urls import path

from . import views

urlpatterns = [
    path("filings/", views.filings, name="api-filings"),
    path("filings/<int:pk>/", views.filing_detail, name="api-filing"),
    path("filings/<int:pk>/submit/", views.filing_submit, name="api-filing-submit"),
]
