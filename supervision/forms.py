from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Region

from .models import CloseReason, ParameterKey, Threshold


class ThresholdForm(forms.ModelForm):
    class Meta:
        model = Threshold
        fields = [
            "code",
            "indicator",
            "comparator",
            "value",
            "severity",
            "scope",
            "region_code",
            "effective_from",
            "effective_to",
            "source",
            "source_en",
            "confidence",
            "q4_only",
        ]
        widgets = {
            "effective_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "effective_to": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {"value": _("比率以小数填写，如 10% 填 0.10；倍数直接填写，如 10")}

    note = forms.CharField(label=_("修改说明"), required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True
        for name, field in self.fields.items():
            css = (
                "form-check-input"
                if name == "q4_only"
                else ("form-select" if isinstance(field.widget, forms.Select) else "form-control")
            )
            field.widget.attrs.setdefault("class", css)

    def clean_region_code(self):
        code = self.cleaned_data.get("region_code") or ""
        if code and not Region.objects.filter(code=code).exists():
            raise forms.ValidationError(_("地区代码不存在（GB/T 2260）"))
        return code

    def clean(self):
        data = super().clean()
        start, end = data.get("effective_from"), data.get("effective_to")
        if start and end and end < start:
            self.add_error("effective_to", _("失效日期不能早于生效日期"))
        return data

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("note", None)
        code = data.pop("code", "")
        region = data.get("region_code")
        data["region_name"] = Region.objects.get(code=region).name if region else ""
        return {"code": code, **data}


class CloseWarningForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("关闭原因"),
        choices=CloseReason.choices,
        required=False,
        initial=CloseReason.RECTIFIED,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    note = forms.CharField(
        label=_("处理说明"), widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"})
    )


class ParameterForm(forms.Form):
    key = forms.ChoiceField(label=_("参数"), choices=ParameterKey.choices)
    value = forms.DecimalField(label=_("取值"), max_digits=24, decimal_places=6)
    effective_from = forms.DateField(label=_("生效日期"), widget=forms.DateInput(attrs={"type": "date"}))
    effective_to = forms.DateField(
        label=_("失效日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    source = forms.CharField(label=_("依据"), max_length=300)
    note = forms.CharField(label=_("说明"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault(
                "class", "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            )
