"""One module per rubric criterion; each maps a Workspace to (ratio, Findings)."""
