"""Mutation mixins per domain, combined into the root `Mutation` in `resolvers.mutation`."""
