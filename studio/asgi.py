import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
# Set up Django before importing anything that touches models.
django.setup(set_prefix=False)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from studio.bodylimit import BodyLimit  # noqa: E402
from studio.handler import PooledASGIHandler  # noqa: E402
from studio.origin import SameOriginValidator  # noqa: E402
from studio.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": BodyLimit(PooledASGIHandler(settings.SLATE_REQUEST_THREADS)),
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
