"""The ASGI entry point: HTTP through Django, WebSockets through Channels (by session, or by API token in
an `Authorization` header: huashen.api.ws_auth)."""

import gc
import os
import sys

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huashen.settings")
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs the apps loaded above)
from django.urls import path  # noqa: E402

from huashen.api.ws_auth import OriginCheckedWhenPresent, WebsocketAuthStack  # noqa: E402
from huashen.grading.consumers import SubmissionConsumer  # noqa: E402
from huashen.teaching.consumers import MatrixConsumer  # noqa: E402

websocket_routes = [
    path("ws/submissions/<int:submission_id>/", SubmissionConsumer.as_asgi()),
    path("ws/cohorts/<int:cohort_id>/matrix/", MatrixConsumer.as_asgi()),
]

from huashen.grading.embedded import start_with_the_server  # noqa: E402

start_with_the_server()  # the embedded grader, when asked to start with the server (make run)

if "daphne.cli" in sys.modules:  # loaded by daphne's command to serve (not by a test or a command)
    if settings.DAPHNE_WRITE_THROUGH:
        from huashen.daphne_writes import install

        install()  # each WebSocket frame sent at once, not at the reactor's next turn
    # What the imports made lives as long as the process: full collections no longer walk it (about
    # 130,000 objects, 40 ms a full collection on these machines, each pausing every socket).
    gc.freeze()

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": OriginCheckedWhenPresent(WebsocketAuthStack(URLRouter(websocket_routes))),
    }
)
