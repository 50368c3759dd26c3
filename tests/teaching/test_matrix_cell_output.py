"""The matrix API's cells, written out for speed, say exactly what the declared fields would."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework import serializers

from huashen.api.teaching_views import MatrixCellOutput
from huashen.teaching.selectors import Cell


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/New_York"])
def test_a_cell_reads_as_its_declared_fields_would(zone: str) -> None:
    cells = [
        Cell(7, "passed", 100.0, 3, dt.datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=dt.UTC)),
        Cell(
            8,
            "attempted",
            42.5,
            1,
            dt.datetime(2026, 3, 1, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        ),
        Cell(9, "ran", 0.0, 0, None),
        Cell(10, "none"),
    ]
    with timezone.override(zone):  # the reader's own time zone, as the middleware activates it
        output = MatrixCellOutput(many=True)
        fast = output.to_representation(cells)
        generic = [serializers.Serializer.to_representation(output.child, cell) for cell in cells]
    assert fast == generic
    assert [type(value) for value in fast[1].values()] == [type(value) for value in generic[1].values()]
