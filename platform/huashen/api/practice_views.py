"""The practice API: a trial's server-side draft, its hints one at a time, the reference solution after a
pass, and a submission's place in the queue. Thin views around `huashen.practice` services/selectors."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from huashen.accounts.models import User
from huashen.api.inputs import TextField
from huashen.api.views import BilingualSerializer
from huashen.curriculum.models import Exercise
from huashen.grading.selectors import exercise_get_open_for_student, submission_get_for_viewer
from huashen.practice.markdown import render_markdown
from huashen.practice.selectors import (
    draft_get,
    hint_count,
    hints_revealed,
    reference_for_viewer,
    submission_queue_ahead,
)
from huashen.practice.services import draft_save, hint_reveal_next


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAuthenticated ran first
    return user


# --- draft -----------------------------------------------------------------------------------------------
class DraftInput(serializers.Serializer):
    code = TextField(trim_whitespace=False, allow_blank=True)


class DraftOutput(serializers.Serializer):
    code = serializers.CharField(trim_whitespace=False, allow_blank=True)
    origin = serializers.ChoiceField(
        choices=["draft", "starter"], help_text="starter: no draft saved yet, this is the starter code"
    )
    updated_at = serializers.DateTimeField(allow_null=True)


def _draft_data(user: User, exercise: Exercise) -> dict[str, object]:
    draft = draft_get(user=user, exercise=exercise)
    if draft is None:
        assert exercise.current_version is not None
        return {"code": exercise.current_version.starter_code, "origin": "starter", "updated_at": None}
    return {"code": draft.code, "origin": "draft", "updated_at": draft.updated_at}


class DraftView(APIView):
    @extend_schema(responses=DraftOutput, summary="The saved draft of a trial, or its starter code")
    def get(self, request: Request, slug: str) -> Response:
        user = _user(request)
        exercise = exercise_get_open_for_student(user=user, slug=slug)
        return Response(DraftOutput(_draft_data(user, exercise)).data)

    @extend_schema(
        request=DraftInput,
        responses=DraftOutput,
        summary="Save the draft (same size and encoding rules as a submission; may be empty)",
    )
    def put(self, request: Request, slug: str) -> Response:
        data = DraftInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = _user(request)
        exercise = exercise_get_open_for_student(user=user, slug=slug)
        draft = draft_save(user=user, exercise=exercise, code=data.validated_data["code"])
        return Response(
            DraftOutput({"code": draft.code, "origin": "draft", "updated_at": draft.updated_at}).data
        )


# --- hints -----------------------------------------------------------------------------------------------
class HintOutput(serializers.Serializer):
    index = serializers.IntegerField(help_text="0-based, in order")
    text = BilingualSerializer(help_text="Markdown")
    html = BilingualSerializer(help_text="the same, rendered by the platform's escaping Markdown renderer")
    revealed_at = serializers.DateTimeField()


class HintsOutput(serializers.Serializer):
    hint_count = serializers.IntegerField()
    revealed = HintOutput(many=True)


def _hints_data(user: User, exercise: Exercise) -> dict[str, object]:
    return {
        "hint_count": hint_count(exercise),
        "revealed": [
            {
                "index": hint.index,
                "text": {"zh": hint.zh, "en": hint.en},
                "html": {"zh": render_markdown(hint.zh), "en": render_markdown(hint.en)},
                "revealed_at": hint.revealed_at,
            }
            for hint in hints_revealed(user=user, exercise=exercise)
        ],
    }


class HintsView(APIView):
    @extend_schema(responses=HintsOutput, summary="The hints revealed so far")
    def get(self, request: Request, slug: str) -> Response:
        user = _user(request)
        exercise = exercise_get_open_for_student(user=user, slug=slug)
        return Response(HintsOutput(_hints_data(user, exercise)).data)

    @extend_schema(
        request=None,
        responses={201: HintsOutput},
        summary="Reveal the next hint (recorded); 409 when all are revealed",
    )
    def post(self, request: Request, slug: str) -> Response:
        user = _user(request)
        exercise = exercise_get_open_for_student(user=user, slug=slug)
        hint_reveal_next(user=user, exercise=exercise)
        return Response(HintsOutput(_hints_data(user, exercise)).data, status=status.HTTP_201_CREATED)


# --- reference solution ----------------------------------------------------------------------------------
class ReferenceFileOutput(serializers.Serializer):
    name = serializers.CharField()
    code = serializers.CharField(trim_whitespace=False)


class ReferenceOutput(serializers.Serializer):
    files = ReferenceFileOutput(many=True, help_text="solution.py first, then other ways to the same result")


class ReferenceView(APIView):
    @extend_schema(
        responses=ReferenceOutput, summary="The reference solution; 403 until you passed the trial"
    )
    def get(self, request: Request, slug: str) -> Response:
        user = _user(request)
        exercise = exercise_get_open_for_student(user=user, slug=slug)
        files = reference_for_viewer(user=user, exercise=exercise)
        return Response(ReferenceOutput({"files": [{"name": f.name, "code": f.code} for f in files]}).data)


# --- queue -----------------------------------------------------------------------------------------------
class QueueOutput(serializers.Serializer):
    status = serializers.CharField()
    ahead = serializers.IntegerField(
        allow_null=True, help_text="queued submissions before this one; null once it left the queue"
    )


class SubmissionQueueView(APIView):
    @extend_schema(responses=QueueOutput, summary="A submission's place in the grading queue")
    def get(self, request: Request, submission_id: int) -> Response:
        submission = submission_get_for_viewer(user=_user(request), submission_id=submission_id)
        return Response(
            QueueOutput(
                {"status": submission.status, "ahead": submission_queue_ahead(submission=submission)}
            ).data
        )
