"""Every URL and API operation declares who may use it through the authority layer (core.permissions),
and does what it declares: the URL resolver's full pattern list is walked, nothing is listed by hand."""

import re

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import URLResolver, get_resolver, resolve
from rest_framework.test import APIClient

from core.permissions import Access, Authority
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# A value for every URL parameter name in the project (a new name fails the walk until it has one).
SAMPLES = {
    "pk": "999999",
    "filing_pk": "999999",
    "institution_id": "999999",
    "resource": "indicators",
    "credit_code": "91510000MA0000000X",
    "period": "2025Q2",
    "what": "shareholder",
    "action": "cancel",
    "rest": "indicators/",
    "uidb64": "MQ",
    "token": "set-password",
    "step": "review",
    "code": "banan-fee-subsidy",
}


def patterns(resolvers=None, prefix="", namespace=None):
    """(route, pattern, namespace) for every URL the project serves."""
    for p in get_resolver().url_patterns if resolvers is None else resolvers:
        if isinstance(p, URLResolver):
            yield from patterns(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
        else:
            yield prefix + str(p.pattern), p, namespace


def project_patterns():
    """All but Django's admin site, which guards itself (active staff only; see the test below)."""
    return [(route, p) for route, p, namespace in patterns() if namespace != "admin"]


def declaration(pattern):
    """The Access a page declares, or the permission classes an API view declares (None: nothing)."""
    callback = pattern.callback
    access = getattr(callback, "access", None)
    if isinstance(access, Access):  # a page declaration, also when it wraps an API view (the API docs)
        return access
    view_class = getattr(callback, "cls", None)
    if view_class is None:
        return None
    classes = callback.initkwargs.get("permission_classes", view_class.permission_classes)
    return list(classes) if classes and all(issubclass(c, Authority) for c in classes) else None


def url_of(route: str) -> str:
    """A concrete URL for a route: every parameter (path converter or regex group) gets its sample."""
    out, i = "", 0
    while i < len(route):
        if route.startswith("(?P<", i):  # a regex group, possibly with groups inside it
            name = route[i + 4 : route.index(">", i)]
            depth, j = 0, i
            while True:
                depth += {"(": 1, ")": -1}.get(route[j], 0)
                j += 1
                if depth == 0:
                    break
            out, i = out + SAMPLES[name], j
        else:
            out, i = out + route[i], i + 1
    out = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLES[m[1]], out)
    return "/" + out.replace("^", "").replace("$", "")


def test_every_url_and_api_operation_declares_its_permission():
    walked = project_patterns()
    assert len(walked) > 90  # the walk reaches the apps' and the API's patterns
    assert [route for route, p in walked if declaration(p) is None] == []


def is_public(declared) -> bool:
    return declared.public if isinstance(declared, Access) else declared[0].read.public


def test_public_pages_say_so_explicitly():
    public = sorted(route for route, p in project_patterns() if is_public(declaration(p)))
    assert public == [
        "^reporting/(?P<rest>(?:indicators|warnings|thresholds)(?:/.*)?)$",
        "accounts/login/",
        "accounts/logout/",
        "accounts/password/reset/",
        "accounts/password/reset/<uidb64>/<token>/",
        "accounts/password/reset/done/",
        "accounts/password/reset/sent/",
        "api/v1/^subsidy-publicity/$",
        "api/v1/auth/token/",
        "favicon.ico",
        "healthz",
        "i18n/setlang/",
        "public/govlist/",
        "public/notices/",
        "public/notices/<int:pk>/",
        "public/register/",
        "subsidies/publicity.csv",
        "subsidies/publicity.json",
        "subsidies/publicity/",
    ]


def test_every_sample_url_resolves_to_its_own_view():
    for route, p in project_patterns():
        assert resolve(url_of(route)).func is p.callback, route


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def _get(client, url):
    return client.get(url, HTTP_ACCEPT="application/json")


def test_the_anonymous_public_reaches_only_what_is_declared_public():
    client = Client()
    for route, p in project_patterns():
        declared = declaration(p)
        response = _get(client, url_of(route))
        if isinstance(declared, Access):
            refused = _is_login_redirect(response)
        else:
            refused = response.status_code in (401, 403)
        assert refused is not is_public(declared), (route, response.status_code)


def test_a_user_without_a_role_is_refused_exactly_the_role_pages():
    """A signed-in account that holds no role passes `signed_in` and `public`, and nothing with roles;
    an API write needs a role wherever one is declared."""
    nobody = UserFactory(username="t_no_role", role="")
    page, api = Client(), APIClient()
    page.force_login(nobody)
    api.force_authenticate(nobody)
    for route, p in project_patterns():
        declared = declaration(p)
        url = url_of(route)
        if isinstance(declared, Access):
            status = _get(page, url).status_code
            assert (status == 403) is (declared.roles is not None), (route, status)
        else:
            authority = declared[0]
            assert (_get(api, url).status_code == 403) is (authority.read.roles is not None), route
            if route == "api/v1/auth/token/":
                continue  # signs in: it has no user to refuse
            assert (api.post(url, {}, format="json").status_code == 403) is (
                authority.write.roles is not None
            ), route


def test_administrators_pass_every_role_check_but_the_company_s_own_pages():
    """The filing form and its Excel act for the user's own institution: an administrator has none."""
    administrator = UserFactory(username="t_admin_walk", role="admin")
    client = Client()
    client.force_login(administrator)
    company_only = []
    for route, p in project_patterns():
        declared = declaration(p)
        if isinstance(declared, Access) and declared.roles is not None:
            status = _get(client, url_of(route)).status_code
            assert (status == 403) is (not declared.admins), (route, status)
            if not declared.admins:
                company_only.append(route)
    assert company_only == [
        "guarantees/upload/",
        "guarantees/batches/<int:pk>/confirm/",
        "reporting/file/<str:period>/",
        "reporting/file/<str:period>/check/",
        "reporting/file/<str:period>/template.xlsx",
        "reporting/file/<str:period>/upload/",
        "reporting/file/<str:period>/prefill/",
        "subsidies/schemes/<slug:code>/apply/",
    ]


def test_the_admin_site_admits_active_staff_only():
    request = RequestFactory().get("/")
    for user, admitted in (
        (UserFactory(username="t_staff", role="admin", is_staff=True), True),
        (UserFactory(username="t_reg_walk", role="regulator", region_id="510000"), False),
    ):
        request.user = user
        assert admin.site.has_permission(request) is admitted


MENU = {
    "admin": [
        "工作台",
        "待办",
        "机构名录",
        "季度报表",
        "报送进度",
        "审核队列",
        "监管指标",
        "风险预警",
        "监管措施",
        "分类评级",
        "年度报告",
        "政策阈值",
        "校验规则",
        "消息",
        "政府性机构名单",
        "补贴",
        "银担合作",
        "总对总核对",
        "明细核对容差",
        "公告",
        "多机构共同客户",
        "审计日志",
    ],
    "cd_regulator": [
        "工作台",
        "待办",
        "机构名录",
        "季度报表",
        "报送进度",
        "审核队列",
        "监管指标",
        "风险预警",
        "监管措施",
        "分类评级",
        "年度报告",
        "政策阈值",
        "校验规则",
        "消息",
        "政府性机构名单",
        "补贴",
        "银担合作",
        "总对总核对",
        "明细核对容差",
        "公告",
        "多机构共同客户",
    ],
    "sc_finance": ["工作台", "待办", "政府性机构名单", "补贴"],
    "cd_approver": [
        "工作台",
        "待办",
        "本机构",
        "季度报表",
        "监管指标",
        "监管措施",
        "分类评级",
        "消息",
        "补贴",
        "银担合作",
        "担保业务明细",
        "明细报送",
    ],
}


@pytest.mark.parametrize("who", sorted(MENU))
def test_the_menu_by_role(who, users, client_for):
    response = client_for(users[who]).get("/")
    assert [str(item["label"]) for item in response.context["nav_items"]] == MENU[who]
