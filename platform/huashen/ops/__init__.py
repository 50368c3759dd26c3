"""Operations, in one place: Prometheus metrics (`metrics`), request ids and structured logs
(`observability`), liveness and readiness (`health`: /healthz, /readyz) and what the staff operations page
shows (`operations`: queue depths, graders, work in flight, recent internal errors)."""
