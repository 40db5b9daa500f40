"""Model registry records: what a published model version is made of."""
