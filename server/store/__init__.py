"""Per-entity store verbs over an AsyncSession (`find_build`, `list_builds`, `create_build`, …)."""
