from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ApiKeyScope


class OTPTokenForm(forms.Form):
    token = forms.CharField(
        label=_("动态验证码"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=64, help_text=_("例如：财务系统直连"))
    scopes = forms.MultipleChoiceField(
        label=_("权限范围"), choices=ApiKeyScope.choices, widget=forms.CheckboxSelectMultiple
    )
