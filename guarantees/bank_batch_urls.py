from django.urls import path

from . import bank_batch_views as views

app_name = "bank_batches"

urlpatterns = [
    path("", views.bank_batch_list, name="list"),
    path("upload/", views.bank_batch_upload_view, name="upload"),
    path("template.xlsx", views.bank_batch_template, name="template"),
    path("<int:pk>/", views.bank_batch_detail, name="detail"),
]
