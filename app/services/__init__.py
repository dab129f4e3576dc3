"""Domain services: every write, validated and held to the caller's subtree, inside the caller's transaction."""
