"""Phasewise: a phase-aware energy management system served as a GraphQL API."""
