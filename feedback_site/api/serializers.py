"""Base classes for input serializers."""

from collections.abc import Mapping

from rest_framework import serializers

# Names a client might try to write that only the server sets; they get a
# clearer message than a plain "unknown field".
SERVER_FIELDS = frozenset({
    "id", "status", "score", "total", "owner", "owner_id", "user", "created_at", "updated_at",
    "submitted_at", "started_at", "finished_at", "attempts", "max_attempts", "result", "storage_key",
    "requested_by", "error", "error_code", "error_message", "lease_owner", "lease_expires_at",
})


class StrictInputSerializer(serializers.Serializer):
    """Rejects fields it does not declare instead of dropping them silently.

    A client that sends ``status`` or ``score`` learns that it cannot, rather
    than believing its write went through.
    """

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            for name in data:
                if name not in self.fields:
                    unknown[name] = [
                        "This field is set by the server and cannot be written."
                        if name in SERVER_FIELDS
                        else "Unknown field."
                    ]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                exc.detail.update(unknown)
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class StrictCharField(serializers.CharField):
    """A CharField that wants a string: DRF's would turn 42 into "42".

    Also refuses lone surrogates, which JSON can carry but neither UTF-8 nor
    PostgreSQL can store.
    """

    default_error_messages = {"invalid": "A string is required.", "encoding": "The text is not valid Unicode."}

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            self.fail("encoding")
        return super().to_internal_value(data)


# Largest value of a PostgreSQL bigint primary key.
MAX_BIGINT = 2**63 - 1


class StrictUUIDField(serializers.UUIDField):
    """A UUIDField that wants a string: DRF's would read 12 as UUID(int=12)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An IntegerField that wants a JSON number: DRF's would take "10" and 10.0."""

    def to_internal_value(self, data):
        if type(data) is not int:  # bool is an int subclass; refuse it too
            self.fail("invalid")
        return super().to_internal_value(data)


class QueryFilterSerializer(serializers.Serializer):
    """Query-string filters. An empty value (``?status=``) is refused rather
    than read as no filter (DRF's default for form input), as the schema says."""

    def to_internal_value(self, data):
        empty = {name: ["Give a value, or leave the parameter out."]
                 for name in self.fields if name in data and data.get(name) == ""}
        if empty:
            raise serializers.ValidationError(empty)
        return super().to_internal_value(data)
