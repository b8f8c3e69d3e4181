"""Recovery plan group actions: moved to reconciler/kinds/rpactions.py (the recovery_plan kind's
actions, next to its field table); the names are re-exported here for existing imports."""

from __future__ import annotations

from reconciler.kinds.rpactions import ALL_TYPES, action_body, declared, declared_names, from_body, summary

__all__ = ["ALL_TYPES", "action_body", "declared", "declared_names", "from_body", "summary"]
