from django.contrib import admin

from .models import AuditEntry, Invite


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ["workspace", "role", "email", "uses", "max_uses", "expires_at", "revoked_at"]
    list_filter = ["role", "workspace"]
    search_fields = ["email", "workspace__name"]
    readonly_fields = ["token", "uses", "created_by", "created_at"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is written by the changes it records, never by hand."""

    list_display = ["created_at", "workspace", "action", "actor_name", "target", "address"]
    list_filter = ["action", "workspace"]
    search_fields = ["actor_name", "target", "detail"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
