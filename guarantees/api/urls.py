from django.urls import path

from core.excel import upload_channel

from .viewsets import BatchViewSet

urlpatterns = [
    path(
        "guarantees/batches/",
        upload_channel("guarantees")(BatchViewSet.as_view({"get": "list", "post": "create"})),
        name="guarantees-api-batches",
    ),
    path(
        "guarantees/batches/upload/",
        upload_channel("guarantees")(BatchViewSet.as_view({"post": "upload"})),
        name="guarantees-api-batch-upload",
    ),
    path(
        "guarantees/batches/<int:pk>/", BatchViewSet.as_view({"get": "retrieve"}), name="guarantees-api-batch"
    ),
    path(
        "guarantees/batches/<int:pk>/confirm/",
        BatchViewSet.as_view({"post": "confirm"}),
        name="guarantees-api-batch-confirm",
    ),
    path(
        "guarantees/batches/<int:pk>/report.xlsx",
        BatchViewSet.as_view({"get": "report"}),
        name="guarantees-api-batch-report",
    ),
]
