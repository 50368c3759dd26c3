"""What the curriculum announces.

`trial_versions_created` (slugs): a sync gave these trials a new current version (new trials included),
sent after the sync committed. Subscribers connect in their AppConfig.ready() (the curves app queues a
reference run of each that trains).
"""

from django.dispatch import Signal

trial_versions_created = Signal()
