"""Job orchestration: the scheduled drift check and the retraining steps over the data access
layer, and the state machines (Amazon States Language) that run them, one definition each for
the CDK stack and the local runtime."""
