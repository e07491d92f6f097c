from django.urls import path

from . import views

app_name = "institutions"

urlpatterns = [
    path("institutions/", views.institution_list, name="list"),
    path("institutions/export.xlsx", views.institution_export, name="export"),
    path("institutions/own/", views.own_institution, name="own"),
    path("institutions/import/", views.registry_import, name="import"),
    path("institutions/<int:pk>/", views.institution_detail, name="detail"),
    path("institutions/<int:pk>/edit/", views.institution_edit, name="edit"),
    path("institutions/<int:pk>/licences/new/", views.licence_issue, name="licence_issue"),
    path("institutions/<int:pk>/people/<str:what>/", views.people_edit, name="people_edit"),
    path("institutions/<int:pk>/changes/new/", views.change_filing_submit, name="change_filing_submit"),
    path("changes/<int:pk>/review/", views.change_filing_review, name="change_filing_review"),
    path("changes/<int:pk>/document/", views.change_filing_document, name="change_filing_document"),
    path("licences/<int:pk>/", views.licence_detail, name="licence"),
    path("licences/duties/<int:pk>/done/", views.duty_complete, name="duty_complete"),
    path("licences/<str:action>/", views.licence_action, name="licence_action"),
    path("notices/", views.notice_list, name="notices"),
    path("notices/<int:pk>/", views.notice_edit, name="notice"),
    path("govlist/", views.govlist, name="govlist"),
    path("govlist/<int:pk>/", views.govlist_batch, name="govlist_batch"),
    path("agreements/", views.agreement_list, name="agreements"),
    path("agreements/new/", views.agreement_edit, name="agreement_new"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path("agreements/<int:pk>/edit/", views.agreement_edit, name="agreement_edit"),
    path("public/register/", views.public_register, name="public_register"),
    path("public/govlist/", views.public_govlist, name="public_govlist"),
    path("public/notices/", views.public_notices, name="public_notices"),
    path("public/notices/<int:pk>/", views.public_notice, name="public_notice"),
]
