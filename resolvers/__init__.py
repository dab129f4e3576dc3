"""The Strawberry schema: one module per GraphQL type, the loaders, the mutations."""
