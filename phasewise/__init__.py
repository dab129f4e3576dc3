"""The composition root: the ASGI app and the command line, the one place that wires `app` and `resolvers`."""
