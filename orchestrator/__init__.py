"""The composition root: the only package that imports connectors, tracer and rubrics."""
