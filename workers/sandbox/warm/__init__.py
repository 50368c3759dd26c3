"""The warm sandbox: a zygote per grading slot that imported torch once and forks a confined run per job.

`pool.py` is the host side (starting, registering and reclaiming zygotes, handing a run its cgroups and
work dir), `zygote.py` the inside, `linux.py` the Linux constants both use (copied beside the zygote)."""
