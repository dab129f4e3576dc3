"""One module per GraphQL object type."""
