"""Trainers a spec names with `[retraining] trainer = "tests.integration.trainers.<module>:fit"`:
the team's own training code, as a retraining run calls it."""
