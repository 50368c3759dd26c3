"""Curves to compare against: the median curve of the viewer's cohort's passed runs of a trial."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from huashen.accounts.models import User
from huashen.api.schema import ErrorOutput
from huashen.curves.services import reference_series
from huashen.grading.curves import COHORT_CURVE_MIN_RUNS, cohort_for_viewer, cohort_median_curve
from huashen.grading.selectors import exercise_get_for_student


class CurvesInput(serializers.Serializer):
    cohort = serializers.IntegerField(
        required=False, min_value=1, help_text="a cohort the viewer is in or teaches; default: their first"
    )


class CohortRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MedianSeriesOutput(serializers.Serializer):
    name = serializers.CharField(help_text="the metric, as the runs reported it")
    steps = serializers.ListField(child=serializers.IntegerField())
    median = serializers.ListField(child=serializers.FloatField(), help_text="the median at each step")


class ReferenceSeriesOutput(serializers.Serializer):
    name = serializers.CharField(help_text="the metric, as the reference run reported it")
    steps = serializers.ListField(child=serializers.IntegerField())
    values = serializers.ListField(child=serializers.FloatField())


class CurvesOutput(serializers.Serializer):
    cohort = CohortRefOutput(allow_null=True, help_text="null when the viewer is in no cohort")
    runs = serializers.IntegerField(help_text="passed runs counted, one per student (their latest)")
    min_runs = serializers.IntegerField(help_text="below this many runs no curve is given")
    available = serializers.BooleanField()
    series = MedianSeriesOutput(many=True)
    reference = ReferenceSeriesOutput(
        many=True,
        help_text="the reference solution's curve recorded with the trial's current version ([] if none)",
    )


class CohortCurvesView(APIView):
    @extend_schema(
        parameters=[CurvesInput],
        responses={200: CurvesOutput, 404: ErrorOutput},
        summary="The median curve of the cohort's passed runs of this trial",
        description=(
            "From the metric events stored with each passed run of the trial's current version, one run per "
            f"student. Given only with at least {COHORT_CURVE_MIN_RUNS} runs, and a step only where at least "
            "that many runs reported the metric; never anyone's identity. A student reads their own cohort's, "
            "an instructor the cohorts they teach; another cohort is 404. `reference` is the reference solution's "
            "curve for the trial's current version, when one was recorded."
        ),
    )
    def get(self, request: Request, slug: str) -> Response:
        user = request.user
        assert isinstance(user, User)  # IsAuthenticated ran first
        query = CurvesInput(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        exercise = exercise_get_for_student(user=user, slug=slug)
        cohort = cohort_for_viewer(user=user, cohort_id=query.validated_data.get("cohort"))
        body: dict[str, object] = {
            "cohort": None,
            "runs": 0,
            "min_runs": COHORT_CURVE_MIN_RUNS,
            "available": False,
            "series": [],
            "reference": reference_series(exercise=exercise),
        }
        if cohort is not None:
            curve = cohort_median_curve(cohort=cohort, exercise=exercise)
            body.update(
                cohort={"id": cohort.pk, "name": cohort.name},
                runs=curve.runs,
                available=curve.available,
                series=[
                    {"name": name, "steps": steps, "median": medians}
                    for name, (steps, medians) in curve.series.items()
                ]
                if curve.available
                else [],
            )
        return Response(CurvesOutput(body).data)
