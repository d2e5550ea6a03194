"""Shared pieces of the staff console (Django admin)."""


class ReadOnlyAdmin:
    """An admin page that shows records and never adds, edits or deletes them:
    append-only history, and state that changes only through services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
