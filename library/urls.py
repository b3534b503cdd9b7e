from django.urls import path

from . import review_views, views

app_name = "library"

urlpatterns = [
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
