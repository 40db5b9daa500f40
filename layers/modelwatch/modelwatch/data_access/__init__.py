"""Data access: the platform (clients, settings, clock), the data bucket, the model store and
the label store. The statistics never import this package; jobs, functions and the local runtime do.
"""
