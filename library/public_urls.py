from django.urls import path

from . import public_views

app_name = "library_public"

urlpatterns = [
    path("<str:token>/", public_views.shared, name="share"),
    path("<str:token>/review/", public_views.review, name="review"),
    path("<str:token>/unlock/", public_views.unlock, name="unlock"),
    path("<str:token>/<int:take_id>/<slug:kind>/", public_views.shared_media, name="media"),
]
