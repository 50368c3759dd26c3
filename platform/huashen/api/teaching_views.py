"""The teaching API: cohorts, the progress matrix, trial statistics, the review queue and reviews.

Thin views around `huashen.teaching` selectors and services. Users who teach nothing get 403; a cohort the
caller does not teach is 404 (`cohort_get_for_instructor`, the same check as the pages and the socket).
"""

import datetime as dt
from collections.abc import Callable
from functools import cached_property
from typing import Any, cast

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import ISO_8601, generics, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from huashen.accounts.models import User
from huashen.accounts.selectors import cohort_get_for_instructor, cohorts_taught_by
from huashen.accounts.services import cohort_create
from huashen.grading.models import Submission
from huashen.teaching import selectors
from huashen.teaching.services import review_submit


class IsInstructor(BasePermission):
    message = _("只有导师可以使用这个接口。")

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and isinstance(user, User) and user.is_instructor)


def _user(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


class TeachingView(APIView):
    permission_classes = [IsInstructor]


# --- cohorts -------------------------------------------------------------------------------------------
class CohortOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    join_code = serializers.CharField()
    is_open = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class CohortInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)


class RosterEntryOutput(serializers.Serializer):
    id = serializers.IntegerField(source="student.pk")
    username = serializers.CharField(source="student.username")
    joined_at = serializers.DateTimeField()
    passed = serializers.IntegerField()
    last_activity = serializers.DateTimeField(allow_null=True)


class CohortDetailOutput(CohortOutput):
    roster = RosterEntryOutput(many=True)


class CohortListView(TeachingView):
    @extend_schema(responses=CohortOutput(many=True))
    def get(self, request: Request) -> Response:
        cohorts = cohorts_taught_by(user=_user(request)).order_by("name")
        return Response(CohortOutput(cohorts, many=True).data)

    @extend_schema(request=CohortInput, responses={201: CohortOutput})
    def post(self, request: Request) -> Response:
        data = CohortInput(data=request.data)
        data.is_valid(raise_exception=True)
        cohort = cohort_create(name=data.validated_data["name"], instructor=_user(request))
        return Response(CohortOutput(cohort).data, status=status.HTTP_201_CREATED)


class CohortDetailView(TeachingView):
    @extend_schema(responses=CohortDetailOutput)
    def get(self, request: Request, cohort_id: int) -> Response:
        cohort = cohort_get_for_instructor(user=_user(request), cohort_id=cohort_id)
        roster = selectors.cohort_roster(cohort=cohort)
        return Response(CohortDetailOutput({**CohortOutput(cohort).data, "roster": roster}).data)


# --- the matrix ----------------------------------------------------------------------------------------
class MatrixExerciseOutput(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    realm = serializers.CharField(source="realm.slug")
    title = serializers.SerializerMethodField()

    def get_title(self, exercise: Any) -> dict[str, str]:
        version = exercise.current_version
        return {"zh": version.title_zh, "en": version.title_en}


class MatrixCellOutput(serializers.Serializer):
    exercise = serializers.IntegerField(source="exercise_id")
    state = serializers.ChoiceField(choices=["none", "ran", "attempted", "passed"])
    best_score = serializers.FloatField()
    attempts = serializers.IntegerField()
    last_submitted_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, cell: Any) -> dict[str, Any]:
        """The fields above, written out: a 1,000-row page is 25,000 cells, and the generic per-field
        walk was most of that page's time. The timestamp goes through its own field, as before."""
        when = cell.last_submitted_at
        return {
            "exercise": cell.exercise_id,
            "state": cell.state,
            "best_score": float(cell.best_score),
            "attempts": int(cell.attempts),
            "last_submitted_at": None if when is None else self._when(when),
        }

    @cached_property
    def _when(self) -> Callable[[dt.datetime], Any]:
        """The timestamp field's own output, with the time zone looked up once per response rather
        than once per cell (the lookup, a context-local read, was most of what remained)."""
        field = cast(serializers.DateTimeField, self.fields["last_submitted_at"])
        zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
        iso = str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601
        if not isinstance(zone, dt.tzinfo) or not iso:
            return field.to_representation

        def represent(when: dt.datetime) -> Any:
            if when.tzinfo is None or when.utcoffset() is None:
                return field.to_representation(when)
            text = when.astimezone(zone).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        return represent


class MatrixRowOutput(serializers.Serializer):
    student = serializers.IntegerField(source="student_id")
    username = serializers.CharField()
    passed = serializers.IntegerField()
    last_activity = serializers.DateTimeField(allow_null=True)
    cells = MatrixCellOutput(many=True)


class MatrixOutput(serializers.Serializer):
    trials = MatrixExerciseOutput(many=True, source="exercises")
    rows = MatrixRowOutput(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    sort = serializers.CharField()
    realm = serializers.CharField()


class MatrixQuery(serializers.Serializer):
    realm = serializers.SlugField(required=False, default="")
    sort = serializers.ChoiceField(choices=list(selectors.SORTS), required=False, default="name")
    page = serializers.IntegerField(min_value=1, required=False, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=1000, required=False, default=100)


class CohortMatrixView(TeachingView):
    @extend_schema(
        parameters=[
            OpenApiParameter("realm", str),
            OpenApiParameter("sort", str, enum=list(selectors.SORTS)),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="Rows per page, 1 to 1000 (default 100)."),
        ],
        responses=MatrixOutput,
    )
    def get(self, request: Request, cohort_id: int) -> Response:
        cohort = cohort_get_for_instructor(user=_user(request), cohort_id=cohort_id)
        query = MatrixQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        matrix = selectors.cohort_matrix(
            cohort=cohort,
            realm_slug=query.validated_data["realm"],
            sort=query.validated_data["sort"],
            page=query.validated_data["page"],
            per_page=query.validated_data["page_size"],
        )
        return Response(MatrixOutput(matrix).data)


# --- statistics ----------------------------------------------------------------------------------------
class FailedCheckOutput(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.DictField(child=serializers.CharField())
    failures = serializers.IntegerField()
    messages = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


class DayCountOutput(serializers.Serializer):
    day = serializers.DateField()
    count = serializers.IntegerField()


class ExerciseStatisticsOutput(serializers.Serializer):
    trial = serializers.CharField(source="exercise.slug")
    students = serializers.IntegerField()
    attempted = serializers.IntegerField()
    passed = serializers.IntegerField()
    pass_rate = serializers.FloatField()
    median_attempts_to_pass = serializers.FloatField(allow_null=True)
    median_seconds_to_pass = serializers.FloatField(allow_null=True)
    failed_checks = FailedCheckOutput(many=True)
    score_buckets = serializers.ListField(child=serializers.IntegerField())
    submissions_per_day = serializers.SerializerMethodField()

    def get_submissions_per_day(self, stats: Any) -> list[dict[str, Any]]:
        return [{"day": day.isoformat(), "count": count} for day, count in stats.submissions_per_day]


class ExerciseStatisticsView(TeachingView):
    @extend_schema(responses=ExerciseStatisticsOutput)
    def get(self, request: Request, cohort_id: int, slug: str) -> Response:
        cohort = cohort_get_for_instructor(user=_user(request), cohort_id=cohort_id)
        exercise = selectors.cohort_exercise_get(slug=slug)
        stats = selectors.exercise_statistics(cohort=cohort, exercise=exercise)
        return Response(ExerciseStatisticsOutput(stats).data)


# --- reviews -------------------------------------------------------------------------------------------
class QueueItemOutput(serializers.Serializer):
    submission = serializers.IntegerField(source="pk")
    student = serializers.CharField(source="user.username")
    trial = serializers.CharField(source="exercise.slug")
    grading = serializers.CharField(source="version.grading")
    verdict = serializers.CharField()
    score = serializers.FloatField(allow_null=True)
    created_at = serializers.DateTimeField()


class ReviewInput(serializers.Serializer):
    scores = serializers.DictField(child=serializers.IntegerField())
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000)


class ReviewOutput(serializers.Serializer):
    id = serializers.IntegerField()
    submission = serializers.IntegerField(source="submission_id")
    reviewer = serializers.CharField(source="reviewer.username")
    scores = serializers.DictField(child=serializers.IntegerField())
    comment = serializers.CharField()
    final_score = serializers.FloatField()
    created_at = serializers.DateTimeField()


class ReviewQueueView(generics.ListAPIView):
    """What the caller may review, oldest first (paginated)."""

    permission_classes = [IsInstructor]
    serializer_class = QueueItemOutput

    def get_queryset(self) -> QuerySet[Submission]:
        return selectors.review_queue(reviewer=_user(self.request))


class ReviewSubmitView(TeachingView):
    @extend_schema(request=ReviewInput, responses={201: ReviewOutput})
    def post(self, request: Request, submission_id: int) -> Response:
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        review = review_submit(
            reviewer=_user(request),
            submission_id=submission_id,
            scores=data.validated_data["scores"],
            comment=data.validated_data["comment"],
        )
        return Response(ReviewOutput(review).data, status=status.HTTP_201_CREATED)
