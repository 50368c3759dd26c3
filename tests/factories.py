"""Builders for curriculum rows in tests (the sync itself is tested against fixture bundles)."""

import hashlib

from huashen.curriculum.models import Exercise, ExerciseVersion, Realm


def make_realm(order: int) -> Realm:
    return Realm.objects.create(
        slug=f"realm-{order}",
        order=order,
        name_zh=f"境界{order}",
        name_en=f"Realm {order}",
        theme_zh="主题",
        theme_en="Theme",
    )


def make_exercise(realm: Realm, tier: int, *, published: bool = True, limits: dict | None = None) -> Exercise:
    exercise = Exercise.objects.create(
        slug=f"{realm.slug}-trial-{tier}", realm=realm, tier=tier, order=tier, is_published=published
    )
    version = ExerciseVersion.objects.create(
        exercise=exercise,
        number=1,
        content_hash=hashlib.sha256(exercise.slug.encode()).hexdigest(),
        title_zh=f"试炼 {realm.order}.{tier}",
        title_en=f"Trial {realm.order}.{tier}",
        limits=limits or {"wall_seconds": 30},
        statement_zh="说明",
        statement_en="Statement",
        hints=[{"zh": "提示", "en": "Hint"}],
        starter_code="print('hello')\n",
        files={},
    )
    exercise.current_version = version
    exercise.save(update_fields=["current_version"])
    return exercise


def make_curriculum(realms: int = 2, tiers: int = 5) -> dict[str, object]:
    """`realms` realms of `tiers` trials each; keys like 'r1', 'r1t3'."""
    rows: dict[str, object] = {}
    for order in range(1, realms + 1):
        realm = make_realm(order)
        rows[f"r{order}"] = realm
        for tier in range(1, tiers + 1):
            rows[f"r{order}t{tier}"] = make_exercise(realm, tier)
    return rows
