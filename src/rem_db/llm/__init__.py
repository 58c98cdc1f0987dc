"""Natural-language questions (SPEC §11, `rem ask`): the QueryPlan, planners behind a registry (the offline
planner and LLM planners over chat clients), schema discovery and multi-stage execution. The chat clients
are shared with dreaming (SPEC §12)."""
