"""The REST API, version 1. Thin views: input and output serializers around one service or selector."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from huashen.accounts.models import User
from huashen.accounts.services import user_set_language
from huashen.accounts.tokens import api_token_create, api_token_revoke, api_tokens_for_user
from huashen.api.authentication import LanguageTokenAuthentication
from huashen.api.bilingual import BilingualSerializer
from huashen.api.coach_views import AnalyzeOutput
from huashen.api.inputs import TextField
from huashen.api.schema import ErrorOutput
from huashen.coach.services import findings_describe
from huashen.curriculum.models import Exercise
from huashen.grading.models import Mode, Status, Submission, Verdict, run_or_submit_choices
from huashen.grading.selectors import (
    exercise_get_for_student,
    exercise_get_open_for_student,
    published_exercises,
    realms_with_progress,
    submission_get_for_viewer,
    submissions_for_user,
)
from huashen.grading.services import submission_create


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAuthenticated ran first
    return user


# --- me ------------------------------------------------------------------------------------------------
class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField(allow_blank=True)
    role = serializers.CharField()
    language = serializers.CharField()


class MeInput(serializers.Serializer):
    language = serializers.ChoiceField(choices=["zh-hans", "en"])


class MeView(APIView):
    @extend_schema(responses=MeOutput)
    def get(self, request: Request) -> Response:
        user = _user(request)
        return Response(
            MeOutput({**_fields(user, "id", "username", "email", "language"), "role": user.role}).data
        )

    @extend_schema(request=MeInput, responses=MeOutput)
    def patch(self, request: Request) -> Response:
        data = MeInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "language" in data.validated_data:
            user_set_language(user=_user(request), language=data.validated_data["language"])
        return self.get(request)


def _fields(obj: object, *names: str) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


# --- realms and exercises --------------------------------------------------------------------------------
class RealmExerciseOutput(serializers.Serializer):
    slug = serializers.CharField()
    tier = serializers.IntegerField()
    order = serializers.IntegerField()
    title = BilingualSerializer()
    state = serializers.ChoiceField(choices=["locked", "open", "attempted", "passed"])
    best_score = serializers.FloatField()


class RealmOutput(serializers.Serializer):
    slug = serializers.CharField()
    order = serializers.IntegerField()
    name = BilingualSerializer()
    theme = BilingualSerializer()
    unlocked = serializers.BooleanField()
    completed = serializers.BooleanField()
    passed = serializers.IntegerField()
    total = serializers.IntegerField()
    passes_to_unlock = serializers.IntegerField(help_text="passes needed in the previous realm")
    trials = RealmExerciseOutput(many=True)


class RealmListView(APIView):
    @extend_schema(responses=RealmOutput(many=True))
    def get(self, request: Request) -> Response:
        data = [
            {
                "slug": state.realm.slug,
                "order": state.realm.order,
                "name": {"zh": state.realm.name_zh, "en": state.realm.name_en},
                "theme": {"zh": state.realm.theme_zh, "en": state.realm.theme_en},
                "unlocked": state.unlocked,
                "completed": state.completed,
                "passed": state.passed,
                "total": state.total,
                "passes_to_unlock": state.unlock_rule,
                "trials": [
                    {
                        "slug": trial.exercise.slug,
                        "tier": trial.exercise.tier,
                        "order": trial.exercise.order,
                        "title": _title(trial.exercise),
                        "state": trial.state if state.unlocked else "locked",
                        "best_score": trial.best_score,
                    }
                    for trial in state.trials
                ],
            }
            for state in realms_with_progress(user=_user(request))
        ]
        return Response(RealmOutput(data, many=True).data)


def _title(exercise: Exercise) -> dict[str, str]:
    version = exercise.current_version
    assert version is not None
    return {"zh": version.title_zh, "en": version.title_en}


class ExerciseSummaryOutput(serializers.Serializer):
    slug = serializers.CharField()
    realm = serializers.CharField(source="realm.slug")
    tier = serializers.IntegerField()
    order = serializers.IntegerField()
    title = BilingualSerializer()


class ExerciseDetailOutput(ExerciseSummaryOutput):
    version = serializers.IntegerField()
    content_hash = serializers.CharField()
    points = serializers.IntegerField()
    grading = serializers.CharField()
    device = serializers.CharField()
    statement = BilingualSerializer()
    starter_code = serializers.CharField()
    hint_count = serializers.IntegerField()
    limits = serializers.DictField(child=serializers.IntegerField())


class ExerciseListView(generics.GenericAPIView):
    pagination_class = None
    serializer_class = ExerciseSummaryOutput

    @extend_schema(
        parameters=[OpenApiParameter("realm", str, description="only this realm's trials")],
        responses=ExerciseSummaryOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        exercises = (
            published_exercises().select_related("realm", "current_version").order_by("realm__order", "order")
        )
        if realm := request.query_params.get("realm"):
            exercises = exercises.filter(realm__slug=realm)
        data = [{**_fields(e, "slug", "realm", "tier", "order"), "title": _title(e)} for e in exercises]
        return Response(ExerciseSummaryOutput(data, many=True).data)


class ExerciseDetailView(APIView):
    @extend_schema(responses=ExerciseDetailOutput)
    def get(self, request: Request, slug: str) -> Response:
        exercise = exercise_get_open_for_student(user=_user(request), slug=slug)
        version = exercise.current_version
        assert version is not None
        data = {
            **_fields(exercise, "slug", "realm", "tier", "order"),
            **_fields(version, "points", "grading", "device", "content_hash", "starter_code", "limits"),
            "title": _title(exercise),
            "version": version.number,
            "statement": {"zh": version.statement_zh, "en": version.statement_en},
            "hint_count": len(version.hints),
        }
        return Response(ExerciseDetailOutput(data).data)


# --- submissions ----------------------------------------------------------------------------------------
class SubmissionInput(serializers.Serializer):
    exercise = serializers.SlugField()
    code = TextField(trim_whitespace=False, allow_blank=True)
    # Run or Submit; a try goes to the exercise's try/ endpoint, with its snippet.
    mode = serializers.ChoiceField(choices=run_or_submit_choices(), default=Mode.SUBMIT)


class CheckOutput(serializers.Serializer):
    key = serializers.CharField()
    passed = serializers.BooleanField()
    score = serializers.FloatField()
    max_score = serializers.FloatField()
    title = BilingualSerializer()
    message = BilingualSerializer()


class SubmissionOutput(serializers.ModelSerializer):
    exercise = serializers.CharField(source="exercise.slug")
    version = serializers.IntegerField(source="version.number")

    class Meta:
        model = Submission
        fields = [
            "id",
            "exercise",
            "version",
            "mode",
            "status",
            "verdict",
            "score",
            "created_at",
            "finished_at",
        ]


class EventOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["log", "stdout", "stderr", "metric", "status", "artifact"])
    payload = serializers.JSONField(help_text="text for stdout/stderr/log, an object otherwise")
    time = serializers.FloatField()


class SubmissionDetailOutput(SubmissionOutput):
    checks = CheckOutput(many=True)
    log = EventOutput(many=True, help_text="the run's events once it is done (live: the WebSocket)")
    artifacts = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text="images the run produced: {name, media_type, data (base64)}",
    )
    resources = serializers.DictField()
    message = serializers.DictField(child=serializers.CharField())

    class Meta(SubmissionOutput.Meta):
        fields = [
            *SubmissionOutput.Meta.fields,
            "code",
            "checks",
            "resources",
            "device",
            "versions",
            "message",
            "traceback",
            "log",
            "artifacts",
            "started_at",
        ]


class SubmissionFilter(serializers.Serializer):
    """The list's query parameters; an unknown value is a 400 naming the parameter, not an empty page."""

    exercise = serializers.SlugField(required=False, help_text="only this trial's submissions")
    mode = serializers.ChoiceField(choices=Mode.choices, required=False)
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    verdict = serializers.ChoiceField(choices=Verdict.choices, required=False)


class SubmissionCreatedOutput(SubmissionDetailOutput):
    coach = AnalyzeOutput(
        help_text="the coach's findings on the submitted code: advice, never part of the score"
    )

    class Meta(SubmissionDetailOutput.Meta):
        fields = [*SubmissionDetailOutput.Meta.fields, "coach"]


class SubmissionListCreateView(generics.ListAPIView):
    serializer_class = SubmissionOutput

    def get_queryset(self) -> QuerySet[Submission]:
        queryset = submissions_for_user(user=_user(self.request))
        # A plain dict, not the QueryDict: DRF reads an empty form value as "absent", and `?verdict=` is
        # a mistake to report, not a filter to drop.
        filters = SubmissionFilter(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        for name, value in filters.validated_data.items():
            queryset = queryset.filter(**{"exercise__slug" if name == "exercise" else name: value})
        return queryset.order_by("-created_at", "-pk")

    @extend_schema(parameters=[SubmissionFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=SubmissionInput,
        parameters=[
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                response=[429],
                description="seconds until the next submission is accepted",
            )
        ],
        responses={
            201: SubmissionCreatedOutput,
            429: OpenApiResponse(ErrorOutput, description="too many submissions: see `Retry-After`"),
        },
    )
    def post(self, request: Request) -> Response:
        data = SubmissionInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = _user(request)
        exercise = exercise_get_for_student(user=user, slug=data.validated_data["exercise"])
        submission = submission_create(
            user=user, exercise=exercise, code=data.validated_data["code"], mode=data.validated_data["mode"]
        )
        body = {**SubmissionDetailOutput(submission).data, "coach": findings_describe(submission.code)}
        return Response(body, status=status.HTTP_201_CREATED)


class SubmissionDetailView(APIView):
    @extend_schema(responses=SubmissionDetailOutput)
    def get(self, request: Request, submission_id: int) -> Response:
        submission = submission_get_for_viewer(user=_user(request), submission_id=submission_id)
        return Response(SubmissionDetailOutput(submission).data)


# --- API tokens -----------------------------------------------------------------------------------------
class TokenInput(serializers.Serializer):
    name = serializers.CharField(
        max_length=64, help_text="what the token is for, e.g. the machine it lives on"
    )


class TokenOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="the first characters after `hs_`, to tell tokens apart")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class NewTokenOutput(TokenOutput):
    token = serializers.CharField(
        help_text="the secret: shown this once, send it as `Authorization: Token …`"
    )


class TokenListCreateView(APIView):
    # Username and password (HTTP Basic) are accepted here and only here: it is how `huashen login`
    # turns a password into a token without scraping the sign-in page.
    authentication_classes = [LanguageTokenAuthentication, BasicAuthentication, SessionAuthentication]

    @extend_schema(responses=TokenOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(TokenOutput(api_tokens_for_user(user=_user(request)), many=True).data)

    @extend_schema(
        request=TokenInput,
        responses={201: NewTokenOutput, 409: OpenApiResponse(ErrorOutput, description="too many tokens")},
    )
    def post(self, request: Request) -> Response:
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        new = api_token_create(user=_user(request), name=data.validated_data["name"])
        body = {**TokenOutput(new.token).data, "token": new.secret}
        return Response(NewTokenOutput(body).data, status=status.HTTP_201_CREATED)


class TokenDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, token_id: int) -> Response:
        api_token_revoke(user=_user(request), token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
