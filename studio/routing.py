from django.urls import path

from .consumers import LiveConsumer

websocket_urlpatterns = [
    path("ws/w/<slug:slug>/", LiveConsumer.as_asgi()),
    path("ws/takes/<int:take_id>/", LiveConsumer.as_asgi()),
]
