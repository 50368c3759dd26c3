from django.db import migrations, models


def mark_regrade_reruns(apps, schema_editor):
    """Re-runs made before the field existed are known by their Regrade row."""
    Regrade = apps.get_model("teaching", "Regrade")
    Submission = apps.get_model("grading", "Submission")
    rerun_ids = Regrade.objects.exclude(rerun_id=None).values_list("rerun_id", flat=True)
    Submission.objects.filter(pk__in=rerun_ids).update(purpose="rerun")


class Migration(migrations.Migration):
    dependencies = [
        ("grading", "0005_verbose_names"),
        ("teaching", "0001_reviews_and_regrades"),
    ]

    operations = [
        migrations.AddField(
            model_name="submission",
            name="purpose",
            field=models.CharField(
                choices=[("attempt", "学员的尝试"), ("rerun", "重新评测")],
                default="attempt",
                help_text="a re-run's result is stored but never counted as an attempt",
                max_length=8,
            ),
        ),
        migrations.RunPython(mark_regrade_reruns, migrations.RunPython.noop),
    ]
