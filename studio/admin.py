from django.contrib import admin

from .models import Membership, Take, Workspace


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_default", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Take)
class TakeAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "title",
        "workspace",
        "provider",
        "size",
        "seconds",
        "status",
        "created_at",
    ]
    list_filter = ["status", "provider", "workspace"]
    search_fields = ["subject", "prompt", "composed_prompt"]
    readonly_fields = [f.name for f in Take._meta.fields]
