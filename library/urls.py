from django.urls import path

from . import gallery_views, review_views, views

app_name = "library"

urlpatterns = [
    path("", gallery_views.gallery_page, name="gallery"),
    path("folders/", gallery_views.create_folder, name="create_folder"),
    path("folders/<int:folder_id>/", gallery_views.folder_detail, name="folder"),
    path(
        "folders/<int:folder_id>/<slug:change>/",
        gallery_views.folder_change,
        name="folder_change",
    ),
    path("takes/<int:take_id>/star/", gallery_views.star, name="star"),
    path("takes/<int:take_id>/drawer/", gallery_views.take_drawer, name="take_drawer"),
    path("bulk/", gallery_views.bulk, name="bulk"),
    path("trash/empty/", gallery_views.empty_trash, name="empty_trash"),
    path("shares/", gallery_views.share_links, name="shares"),
    path("takes/<int:take_id>/share/", gallery_views.share_take, name="share_take"),
    path("shares/<int:link_id>/revoke/", gallery_views.revoke_share, name="revoke_share"),
    path("panel/", views.panel, name="panel"),
    path("templates/<slug:key>/", views.use_template, name="use_template"),
    path("presets/", views.preset_list, name="presets"),
    path("presets/save/", views.save_preset, name="save_preset"),
    path("presets/export.json", views.export_presets, name="export"),
    path("presets/import/", views.import_presets, name="import"),
    path("presets/<int:preset_id>/", views.preset_detail, name="preset"),
    path("presets/<int:preset_id>/use/", views.use_preset, name="use_preset"),
    path("presets/<int:preset_id>/delete/", views.delete_preset, name="delete_preset"),
    path("takes/<int:take_id>/review/", review_views.review_panel, name="review"),
    path("takes/<int:take_id>/review/save/", review_views.save_review, name="save_review"),
    path("takes/<int:take_id>/circle/", review_views.circle_take, name="circle"),
]
