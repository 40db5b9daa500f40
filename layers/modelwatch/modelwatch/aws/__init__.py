"""AWS data access: the platform (clients, settings, clock), the model registry, label storage.

The statistics never import this package; functions and the local runtime do.
"""
