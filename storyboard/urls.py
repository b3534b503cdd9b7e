from django.urls import path

from . import views

app_name = "storyboard"

urlpatterns = [
    path("", views.board_list, name="boards"),
    path("<int:board_id>/", views.board, name="board"),
    path("<int:board_id>/settings/", views.board_settings, name="board_settings"),
    path("<int:board_id>/style/", views.board_style, name="board_style"),
    path("<int:board_id>/cards/add/", views.card_add, name="card_add"),
    path("<int:board_id>/reorder/", views.reorder, name="reorder"),
    path("<int:board_id>/import/", views.import_shots, name="import"),
    path("<int:board_id>/render/", views.render_board, name="render"),
    path("<int:board_id>/render/cancel/", views.cancel_render, name="cancel_render"),
    path("<int:board_id>/cut/", views.make_cut, name="cut"),
    path("<int:board_id>/cut.mp4", views.cut_media, name="cut_media"),
    path("<int:board_id>/export/", views.export_board, name="export"),
    path("cards/<int:card_id>/", views.card_edit, name="card"),
    path("cards/<int:card_id>/preview/", views.card_preview, name="card_preview"),
    path("cards/<int:card_id>/settings/", views.card_settings, name="card_settings"),
    path("cards/<int:card_id>/duplicate/", views.card_duplicate, name="card_duplicate"),
    path("cards/<int:card_id>/delete/", views.card_delete, name="card_delete"),
    path("cards/<int:card_id>/move/", views.card_move, name="card_move"),
    path("cards/<int:card_id>/choose/", views.card_choose, name="card_choose"),
    path("cards/<int:card_id>/render/", views.card_render, name="card_render"),
]
