from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import lineage_views, provider_views, reference_views, views, webhook_views

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("w/<slug:slug>/", views.workspace, name="workspace"),
    path("w/<slug:slug>/preview/", views.compose_preview, name="compose_preview"),
    path("w/<slug:slug>/compose/settings/", views.compose_settings, name="compose_settings"),
    path("w/<slug:slug>/providers/", provider_views.providers, name="providers"),
    path("w/<slug:slug>/providers/add/", provider_views.add_provider, name="add_provider"),
    path(
        "w/<slug:slug>/providers/<slug:name>/check/",
        provider_views.check_provider,
        name="check_provider",
    ),
    path(
        "w/<slug:slug>/providers/<slug:name>/remove/",
        provider_views.remove_provider,
        name="remove_provider",
    ),
    path("w/<slug:slug>/generate/", views.generate, name="generate"),
    path("w/<slug:slug>/library/", include("library.urls")),
    path("w/<slug:slug>/boards/", include("storyboard.urls")),
    path("w/<slug:slug>/references/", reference_views.upload_reference, name="upload_reference"),
    path(
        "w/<slug:slug>/references/panel/", reference_views.reference_panel, name="reference_panel"
    ),
    path(
        "w/<slug:slug>/references/<int:reference_id>/preview.jpg",
        reference_views.reference_preview,
        name="reference_preview",
    ),
    path("takes/<int:take_id>/", views.take_detail, name="take"),
    path("takes/<int:take_id>/cancel/", views.take_cancel, name="take_cancel"),
    path("takes/<int:take_id>/download/", views.take_download, name="take_download"),
    path(
        "takes/<int:take_id>/do/<slug:operation>/",
        lineage_views.take_operation,
        name="take_operation",
    ),
    path("takes/<int:take_id>/compare/", lineage_views.take_compare_pick, name="take_compare_pick"),
    path(
        "takes/<int:take_id>/compare/<int:other_id>/",
        lineage_views.take_compare,
        name="take_compare",
    ),
    path("takes/<int:take_id>/<str:kind>/", views.take_media, name="take_media"),
    path("s/", include("library.public_urls")),
    path("hooks/<slug:kind>/<str:token>/", webhook_views.provider_webhook, name="provider_webhook"),
    path("", include("teams.urls")),
    path("admin/", admin.site.urls),
]
