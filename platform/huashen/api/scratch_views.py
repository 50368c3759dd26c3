"""The Try cell: POST a snippet to run beside the editor's code; GET the try back (its output and figures).

Live output comes over the submission's WebSocket (`/ws/submissions/<id>/`) as any run's does; the GET
answers the finished try, so a client without the socket can poll it.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from huashen.accounts.models import User
from huashen.api.inputs import TextField
from huashen.api.schema import ErrorOutput
from huashen.errors import DomainError
from huashen.grading.models import Mode, Submission
from huashen.grading.scratch import try_create
from huashen.grading.selectors import exercise_get_for_student, submission_get_for_viewer
from workers.protocol import EventKind, GradeEvent, ProtocolError

# What a finished try shows at most of its output (the stream itself is capped by the trial's output limit).
MAX_OUTPUT_CHARS = 200_000


class TryInput(serializers.Serializer):
    code = TextField(trim_whitespace=False, allow_blank=True, help_text="the editor's code, as solution.py")
    snippet = TextField(
        trim_whitespace=False, allow_blank=True, help_text="what to run; `solution` is imported"
    )


class OutputChunkOutput(serializers.Serializer):
    stream = serializers.ChoiceField(choices=["stdout", "stderr"])
    text = serializers.CharField()


class TryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    verdict = serializers.CharField(help_text="passed: it ran to its end; error: it raised; or a limit")
    message = serializers.DictField(child=serializers.CharField())
    output = OutputChunkOutput(many=True, help_text="stdout and stderr in order, once the try is done")
    artifacts = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text="matplotlib figures as PNG: {name, media_type, data (base64)}",
    )
    resources = serializers.DictField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def try_output(submission: Submission) -> list[dict[str, str]]:
    """The try's stdout and stderr in order, neighbouring pieces of one stream joined, capped."""
    chunks: list[dict[str, str]] = []
    total = 0
    for wire in submission.log or []:
        try:
            event = GradeEvent.from_wire(wire)
        except (ProtocolError, TypeError):
            continue
        if event.kind not in (EventKind.STDOUT, EventKind.STDERR) or not isinstance(event.payload, str):
            continue
        text = event.payload[: max(0, MAX_OUTPUT_CHARS - total)]
        if not text:
            break
        total += len(text)
        if chunks and chunks[-1]["stream"] == event.kind.value:
            chunks[-1]["text"] += text
        else:
            chunks.append({"stream": event.kind.value, "text": text})
    return chunks


def _body(submission: Submission) -> dict[str, object]:
    return {
        "id": submission.pk,
        "status": submission.status,
        "verdict": submission.verdict,
        "message": submission.message or {},
        "output": try_output(submission),
        "artifacts": submission.artifacts or [],
        "resources": submission.resources or {},
        "created_at": submission.created_at,
        "finished_at": submission.finished_at,
    }


class TryCreateView(APIView):
    @extend_schema(
        request=TryInput,
        parameters=[
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                response=[429],
                description="seconds until the next try is accepted",
            )
        ],
        responses={
            201: TryOutput,
            429: OpenApiResponse(ErrorOutput, description="too many tries: see `Retry-After`"),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        data = TryInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = _user(request)
        exercise = exercise_get_for_student(user=user, slug=slug)
        submission = try_create(
            user=user,
            exercise=exercise,
            code=data.validated_data["code"],
            snippet=data.validated_data["snippet"],
        )
        return Response(TryOutput(_body(submission)).data, status=status.HTTP_201_CREATED)


class TryDetailView(APIView):
    @extend_schema(responses=TryOutput)
    def get(self, request: Request, slug: str, try_id: int) -> Response:
        submission = submission_get_for_viewer(user=_user(request), submission_id=try_id)
        if submission.mode != Mode.TRY or submission.exercise.slug != slug:
            raise DomainError("not_found", _("没有找到。"), status=404)
        return Response(TryOutput(_body(submission)).data)
