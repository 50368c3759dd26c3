"""The coach's API: what the static analysis says about the code in the editor (advice, never a score)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from huashen.accounts.models import User
from huashen.api.bilingual import BilingualSerializer
from huashen.api.inputs import TextField
from huashen.api.schema import ErrorOutput
from huashen.coach.runtime import run_diagnose
from huashen.coach.services import code_coach, findings_describe
from huashen.grading.models import Status
from huashen.grading.selectors import exercise_get_for_student, submission_get_for_viewer


class AnalyzeInput(serializers.Serializer):
    code = TextField(trim_whitespace=False, allow_blank=True)


class ExerciseLinkOutput(serializers.Serializer):
    slug = serializers.CharField()
    title = BilingualSerializer(allow_null=True, help_text="null when the trial is not in the catalogue")
    url = serializers.CharField(help_text="the trial's page")


class FindingOutput(serializers.Serializer):
    rule = serializers.CharField(help_text="stable rule id, e.g. `softmax-before-cross-entropy`")
    severity = serializers.ChoiceField(choices=["warning", "info"])
    line = serializers.IntegerField(help_text="1-based")
    column = serializers.IntegerField(help_text="0-based, in characters (code points) of the line")
    end_line = serializers.IntegerField()
    end_column = serializers.IntegerField()
    title = BilingualSerializer()
    why = BilingualSerializer(help_text="why it is wrong in PyTorch")
    trial = ExerciseLinkOutput(help_text="the trial that teaches it")
    explains = serializers.ListField(
        child=serializers.CharField(),
        help_text="keys of the submission's failed checks this finding most likely explains (empty in the editor)",
    )


class ParseErrorOutput(serializers.Serializer):
    line = serializers.IntegerField(help_text="1-based")
    column = serializers.IntegerField(help_text="0-based")
    message = serializers.CharField(help_text="Python's own message")


class AnalyzeOutput(serializers.Serializer):
    findings = FindingOutput(many=True)
    parse_error = ParseErrorOutput(allow_null=True, help_text="the code does not parse: no findings")
    complete = serializers.BooleanField(help_text="false when the analysis ran out of time and stopped early")


class RuntimeDiagnosisOutput(serializers.Serializer):
    rule = serializers.CharField(help_text="stable id, e.g. `device-mismatch`, `non-finite-metric`")
    line = serializers.IntegerField(
        allow_null=True, help_text="the line of solution.py the traceback points at"
    )
    title = BilingualSerializer(help_text="what the run shows, with its values")
    why = BilingualSerializer(help_text="why it happens in PyTorch and what to do")


class SubmissionCoachOutput(AnalyzeOutput):
    runtime = RuntimeDiagnosisOutput(
        many=True,
        help_text="what the finished run itself says (its traceback, metrics and resources); empty while it runs",
    )


class AnalyzeView(APIView):
    @extend_schema(
        request=AnalyzeInput,
        responses={200: AnalyzeOutput, 429: ErrorOutput},
        summary="What the coach says about this code (static analysis, nothing runs, nothing is stored)",
        description=(
            "The editor calls this while the student types (debounced). Same size and encoding rules as a "
            "submission; an empty editor has no findings. Findings are advice and never part of a score. "
            "Rate-limited per user (`COACH_ANALYSES_PER_MINUTE`): 429 with `Retry-After`."
        ),
    )
    def post(self, request: Request, slug: str) -> Response:
        data = AnalyzeInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user
        assert isinstance(user, User)  # IsAuthenticated ran first
        exercise_get_for_student(user=user, slug=slug)
        return Response(AnalyzeOutput(code_coach(user=user, code=data.validated_data["code"])).data)


class SubmissionCoachView(APIView):
    @extend_schema(
        responses={200: SubmissionCoachOutput},
        summary="What the coach says about a submission's code, each finding beside the failed checks it explains",
        description=(
            "The same analysis as `analyze`, on the submission's stored code, read by whoever may read the "
            "submission. Once it is graded, each finding's `explains` names the failed checks it most likely "
            "explains. `runtime` adds what the finished run says: a device or dtype mismatch, shapes that do "
            "not multiply, autograd errors, the first non-finite metric, a diverging loss, peak memory against "
            "the limit. Advice only: nothing is stored or scored."
        ),
    )
    def get(self, request: Request, submission_id: int) -> Response:
        user = request.user
        assert isinstance(user, User)  # IsAuthenticated ran first
        submission = submission_get_for_viewer(user=user, submission_id=submission_id)
        body = findings_describe(
            submission.code, trial=submission.exercise.slug, checks=list(submission.checks or [])
        )
        body["runtime"] = (
            run_diagnose(
                traceback=submission.traceback,
                log=submission.log,
                verdict=submission.verdict,
                resources=dict(submission.resources or {}),
                limits=dict(submission.version.limits or {}),
            )
            if submission.status == Status.DONE
            else []
        )
        return Response(SubmissionCoachOutput(body).data)
