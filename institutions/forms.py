from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Region, User
from core.parsing import plausible_date

from .choices import ChangeItem, ListAction, ManagerRole, ShareholderKind
from .models import Agreement, Bank, Notice

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class Bootstrap:
    """Bootstrap 5 classes on every widget."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select form-select-sm"
            else:
                css = "form-control form-control-sm"
            widget.attrs["class"] = css


class LicenceIssueForm(Bootstrap, forms.Form):
    number = forms.CharField(label=_("许可证编号"), max_length=32)
    issued_on = forms.DateField(label=_("发证日期"), widget=DATE, validators=[plausible_date])
    issuing_authority = forms.CharField(
        label=_("发证机关"), max_length=120, required=False, help_text=_("留空则使用本省设置中的发证机关")
    )
    business_scope = forms.CharField(
        label=_("业务范围"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class LicenceChangeForm(Bootstrap, forms.Form):
    issued_on = forms.DateField(label=_("发证（换发）日期"), widget=DATE, validators=[plausible_date])
    issuing_authority = forms.CharField(label=_("发证机关"), max_length=120)
    business_scope = forms.CharField(
        label=_("业务范围"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    note = forms.CharField(label=_("变更说明"), max_length=255)


class CancelForm(Bootstrap, forms.Form):
    reason = forms.CharField(label=_("注销原因"), max_length=255, initial=_("根据公司申请"))
    on = forms.DateField(label=_("注销日期"), widget=DATE, required=False)
    period_label = forms.CharField(label=_("公告期间（无具体日期时）"), max_length=60, required=False)
    title = forms.CharField(label=_("公告标题"), max_length=255, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("on") and not data.get("period_label"):
            raise forms.ValidationError(_("请填写注销日期或公告期间。"))
        return data


class RevokeForm(Bootstrap, forms.Form):
    decision_no = forms.CharField(label=_("吊销决定文号"), max_length=100, required=False)
    on = forms.DateField(label=_("决定日期"), widget=DATE)
    reason = forms.CharField(label=_("吊销原因"), max_length=255, initial=_("根据整改验收结果"))
    title = forms.CharField(label=_("公告标题"), max_length=255, required=False)


class NoticeForm(Bootstrap, forms.ModelForm):
    class Meta:
        model = Notice
        fields = ["title", "document_no", "issuing_body", "published_on", "period_label", "body"]
        widgets = {"published_on": DATE, "body": forms.Textarea(attrs={"rows": 6})}


class BatchForm(Bootstrap, forms.Form):
    title = forms.CharField(label=_("批次名称"), max_length=200)
    published_on = forms.DateField(label=_("发布日期"), widget=DATE, required=False)
    note = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    region = forms.ModelChoiceField(label=_("发布地区"), queryset=Region.objects.none())

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user.region_id:
            del self.fields["region"]  # a regional officer publishes for its own jurisdiction
        else:  # an administrator names the province or city that publishes the list
            self.fields["region"].queryset = Region.objects.exclude(level="county").order_by("code")

    def region_code(self, user: User) -> str:
        return user.region_id or self.cleaned_data["region"].code


class BatchEditForm(Bootstrap, forms.Form):
    """A draft batch's name, date and note, editable until it is proposed."""

    title = forms.CharField(label=_("批次名称"), max_length=200)
    published_on = forms.DateField(label=_("发布日期"), widget=DATE, required=False)
    note = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class EntryForm(Bootstrap, forms.Form):
    institution = forms.ModelChoiceField(label=_("机构"), queryset=None)
    action = forms.ChoiceField(label=_("变动"), choices=ListAction.choices)
    reason = forms.CharField(label=_("理由"), max_length=500, required=False)
    capital_replenishment = forms.BooleanField(label=_("建立资本金持续补充机制"), required=False)
    risk_compensation = forms.BooleanField(label=_("建立风险补偿机制"), required=False)
    national_fund_equity = forms.BooleanField(label=_("国家融资担保基金股权投资"), required=False)
    national_fund_reguarantee = forms.BooleanField(
        label=_("与国家融资担保基金开展再担保合作"), required=False
    )

    def __init__(self, *args, institutions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions
        # a long list: the page's script (js/select-filter.js) puts a search box above it
        self.fields["institution"].widget.attrs["data-searchable"] = "1"


class PercentField(forms.DecimalField):
    """Entered as a percentage (20 = 20%), stored as a fraction (0.2000)."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=7, decimal_places=2, min_value=0, max_value=100, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, Decimal) and not isinstance(self.widget, forms.HiddenInput):
            return (value * 100).normalize()
        return value

    def clean(self, value):
        value = super().clean(value)
        return None if value is None else (value / 100).quantize(Decimal("0.0001"))


class AgreementForm(Bootstrap, forms.ModelForm):
    share_bank = PercentField(label=_("银行分担比例（%）"))
    share_guarantor = PercentField(label=_("担保机构分担比例（%）"))
    share_reguarantor = PercentField(label=_("再担保机构分担比例（%）"))
    share_national_fund = PercentField(label=_("国家融资担保基金分担比例（%）"))
    share_gov_fund = PercentField(label=_("政府风险补偿资金分担比例（%）"))
    margin_ratio = PercentField(label=_("保证金比例（%）"))
    compensation_rate_cap = PercentField(label=_("代偿率上限（%）"), required=False)

    class Meta:
        model = Agreement
        fields = [
            "bank",
            "starts_on",
            "ends_on",
            "credit_line",
            "share_bank",
            "share_guarantor",
            "share_reguarantor",
            "share_national_fund",
            "share_gov_fund",
            "margin_ratio",
            "grace_days",
            "compensation_scope",
            "head_to_head",
            "compensation_rate_cap",
            "single_client_limit",
        ]
        widgets = {"starts_on": DATE, "ends_on": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = Bank.objects.all()
        for name in ("starts_on", "ends_on"):
            self.fields[name].validators.append(plausible_date)

    def _post_clean(self):
        # the model's clean (shares sum to 100%) runs in the service; here only the fields
        pass


class ShareholderForm(Bootstrap, forms.Form):
    name = forms.CharField(label=_("股东名称"), max_length=200)
    kind = forms.ChoiceField(label=_("股东类型"), choices=ShareholderKind.choices)
    identifier = forms.CharField(
        label=_("统一社会信用代码/证件号码"),
        max_length=32,
        required=False,
        help_text=_("自然人身份证号码只保存密钥散列和后四位"),
    )
    share_ratio = PercentField(label=_("持股比例（%）"))
    is_controlling = forms.BooleanField(label=_("控股股东"), required=False)
    is_actual_controller = forms.BooleanField(label=_("实际控制人"), required=False)


class ManagerForm(Bootstrap, forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=64)
    role = forms.ChoiceField(label=_("类别"), choices=ManagerRole.choices)
    title = forms.CharField(label=_("职务"), max_length=64)
    since = forms.DateField(label=_("任职日期"), widget=DATE, required=False)


class ChangeFilingForm(Bootstrap, forms.Form):
    item = forms.ChoiceField(label=_("变更事项"), choices=ChangeItem.choices)
    description = forms.CharField(label=_("变更内容"), widget=forms.Textarea(attrs={"rows": 3}))
    changed_on = forms.DateField(label=_("变更日期"), widget=DATE)
    document = forms.FileField(label=_("证明文件（PDF）"), required=False)

    def clean_document(self):
        doc = self.cleaned_data.get("document")
        if doc and (not doc.name.lower().endswith(".pdf") or doc.size > 10 * 1024 * 1024):
            raise forms.ValidationError(_("请上传10MB以内的PDF文件。"))
        return doc


class InstitutionForm(Bootstrap, forms.ModelForm):
    class Meta:
        from .models import Institution

        model = Institution
        fields = [
            "name",
            "kind",
            "parent",
            "cross_province_branch",
            "region",
            "level",
            "ownership",
            "registered_capital",
            "paid_in_capital",
            "established_on",
            "legal_representative",
            "address",
            "status",
            "status_changed_on",
            "is_reguarantee",
            "credit_reference_access",
            "staff_count",
        ]
        widgets = {"established_on": DATE, "status_changed_on": DATE}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from accounts.models import Region

        from .models import Institution

        self.fields["parent"].queryset = Institution.objects.for_user(user).filter(kind="legal_entity")
        self.fields["region"].queryset = (
            Region.objects.subtree(user.region_id) if user.region_id else Region.objects.all()
        )

    def _post_clean(self):
        pass  # the service validates the model (full_clean) and reports errors back to the form
