"""Small helpers every layer may use; stdlib only."""
