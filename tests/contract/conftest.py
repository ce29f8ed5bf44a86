"""Loads the hypothesis profile (default / fuzz) before any contract test is collected."""
import contract_profile  # noqa: F401
