"""Number formatting the Chinese supervisory way: amounts in 万元 with thousands separators and two
decimals, ratios stored as decimals shown as percentages, undefined values as —. A value that rounds to
zero shows no sign ("z" format option): a −0.004 gap is 0.00, not −0.00."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()
UNDEFINED = "—"


def _decimal(value):
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def money(value, places=2):
    """Decimal("82000") → "82,000.00"."""
    number = _decimal(value)
    return UNDEFINED if number is None else f"{number:z,.{int(places)}f}"


@register.filter
def pct(value, places=2):
    """Decimal("0.0125") → "1.25%"."""
    number = _decimal(value)
    return UNDEFINED if number is None else f"{number * 100:z,.{int(places)}f}%"


@register.filter
def localized(obj, name):
    """`obj.<name>_en` when the user reads English, else `obj.<name>_zh` (or `obj.<name>` where the
    Chinese has no suffix, as in a stored batch finding); objects and dicts alike:
    {{ finding|localized:"message" }}, {{ field|localized:"label" }}."""
    from django.utils.translation import get_language

    def read(key):
        return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)

    english = (get_language() or "").startswith("en")
    # English falls back to Chinese where it is missing
    return (english and read(f"{name}_en")) or read(f"{name}_zh") or read(name) or ""


# Internal values a history reader has no use for: keys, hashes, bookkeeping times.
_INTERNAL = ("id", "pk", "updated_at", "created_at", "current_version", "values_hash", "review_claimed_at")


@register.filter
def in_reader_language(text, separator="；"):
    """A stored text in the reader's language (core.stored_text.show): a system message rendered now,
    old "中文 / English" fragments by their reader's half, anything else as it is."""
    from core.stored_text import is_stored, legacy, show

    return show(text) if is_stored(text) else legacy(text, separator)


@register.filter
def stored_text(text):
    """A text the system stored when something happened (a job's result, an audit note), in the
    reader's language (core.stored_text.show); a text typed by a person as it is."""
    from core.stored_text import show

    return show(text)


@register.filter
def readable_changes(event) -> list[tuple[str, object, object]]:
    """An audit event's changes as people read them: [(field label, before, after)], the label from the
    model's verbose name, internal values (ids, hashes, row keys, bookkeeping times) left out."""
    from django.contrib.contenttypes.models import ContentType

    # through the content-type cache: the history lists many events of the same few models
    model = (
        ContentType.objects.get_for_id(event.content_type_id).model_class() if event.content_type_id else None
    )
    rows = []
    for name, pair in (event.changes or {}).items():
        if name in _INTERNAL or name.endswith("_id") or "hash" in name:
            continue
        label = name
        if model is not None:
            try:
                field = model._meta.get_field(name)
            except Exception:  # noqa: BLE001, S112  (a field since removed: its name is all there is)
                continue
            if field.is_relation and not field.many_to_many:
                continue  # a related row's key says nothing to a reader
            label = str(getattr(field, "verbose_name", name))
            if getattr(field, "choices", None):
                choices = {str(k): str(v) for k, v in field.flatchoices}
                pair = [choices.get(str(v), v) if v is not None else None for v in pair]
        before, after = (list(pair) + [None, None])[:2]
        rows.append((label, before, after))
    return rows
