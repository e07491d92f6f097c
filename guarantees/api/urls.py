from django.urls import path
from rest_framework.parsers import MultiPartParser

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
        # the one multipart operation; every other takes the API's JSON (settings' parser)
        upload_channel("guarantees")(
            BatchViewSet.as_view({"post": "upload"}, parser_classes=[MultiPartParser])
        ),
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
