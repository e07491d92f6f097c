"""API fields shared by the apps' serializers."""

from rest_framework import serializers

from .stored_text import is_stored, legacy, show


class StoredTextField(serializers.CharField):
    """A text the system stored when something happened (core.stored_text), in the reader's language
    (the request's Accept-Language), like the rest of the API; a text typed by a person as typed.
    `fragments=True`: old rows of "中文 / English" fragments give the reader's half (subsidy reasons)."""

    def __init__(self, *, fragments: bool = False, **kwargs):
        self.fragments = fragments
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        if self.fragments and not is_stored(value):
            return legacy(value)
        return show(value)
