from django.urls import path

from .views import agreements, govlist, licences, notices, people, public, registry

app_name = "institutions"

urlpatterns = [
    path("institutions/", registry.institution_list, name="list"),
    path("institutions/export.xlsx", registry.institution_export, name="export"),
    path("institutions/own/", registry.own_institution, name="own"),
    path("institutions/import/", registry.registry_import, name="import"),
    path("institutions/<int:pk>/", registry.institution_detail, name="detail"),
    path("institutions/<int:pk>/edit/", registry.institution_edit, name="edit"),
    path("institutions/<int:pk>/licences/new/", licences.licence_issue, name="licence_issue"),
    path("institutions/<int:pk>/people/<str:what>/", people.people_edit, name="people_edit"),
    path("institutions/<int:pk>/changes/new/", people.change_filing_submit, name="change_filing_submit"),
    path("changes/<int:pk>/review/", people.change_filing_review, name="change_filing_review"),
    path("changes/<int:pk>/document/", people.change_filing_document, name="change_filing_document"),
    path("licences/<int:pk>/", licences.licence_detail, name="licence"),
    path("licences/duties/<int:pk>/done/", licences.duty_complete, name="duty_complete"),
    path("licences/<str:action>/", licences.licence_action, name="licence_action"),
    path("notices/", notices.notice_list, name="notices"),
    path("notices/<int:pk>/", notices.notice_edit, name="notice"),
    path("govlist/", govlist.govlist, name="govlist"),
    path("govlist/<int:pk>/", govlist.govlist_batch, name="govlist_batch"),
    path("agreements/", agreements.agreement_list, name="agreements"),
    path("agreements/new/", agreements.agreement_edit, name="agreement_new"),
    path("agreements/<int:pk>/", agreements.agreement_detail, name="agreement"),
    path("agreements/<int:pk>/edit/", agreements.agreement_edit, name="agreement_edit"),
    path("public/register/", public.public_register, name="public_register"),
    path("public/govlist/", public.public_govlist, name="public_govlist"),
    path("public/notices/", public.public_notices, name="public_notices"),
    path("public/notices/<int:pk>/", public.public_notice, name="public_notice"),
]
