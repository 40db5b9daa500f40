"""The CloudFormation outputs through which `modelwatch publish --stack NAME` finds the registry.
The CDK stack declares them with these keys; the CLI reads them back."""

MODEL_BUCKET = "ModelBucket"
MODEL_PREFIX = "ModelPrefix"
POINTER_PARAMETER = "ModelPointerParameter"
# Where `modelwatch redrive-alerts --stack NAME` finds the notifier and its dead letters.
NOTIFY_FUNCTION = "NotifyFunction"
NOTIFY_DEAD_LETTER_QUEUES = "NotifyDeadLetterQueues"  # comma-separated queue URLs
# Where `modelwatch redrive-captures --stack NAME` finds the capture function and its dead letters
# (and the data bucket, DATA_BUCKET, whose deliveries-errors/ it delivers again).
CAPTURE_FUNCTION = "CaptureFunction"
CAPTURE_DEAD_LETTER_QUEUE = "CaptureDeadLetterQueue"
# Where `modelwatch approve|reject RUN --stack NAME` finds the runs waiting for approval, and
# the managed policy that lets a person decide them ([retraining] approval = "manual").
DATA_BUCKET = "DataBucket"
APPROVERS_POLICY = "RetrainingApproversPolicy"
# Where `modelwatch smoke --stack NAME` finds what it checks after a deploy: the topics (alerts,
# operations, and the notices topic email subscribes to), the alarm it may set, the API, and the
# drift function.
ALERTS_TOPIC = "AlertsTopic"
OPERATIONS_TOPIC = "OperationsTopic"
NOTICES_TOPIC = "NoticesTopic"
SMOKE_ALARM = "SmokeAlarm"
API_URL = "ApiUrl"
DRIFT_FUNCTION = "DriftFunction"


def callers_policy(function: str) -> str:
    """The output naming the managed policy an API route's callers need (apiAuth=iam), by the
    route's function: /feedback is authorized apart from /predict, so a client that may predict
    cannot label (PredictCallersPolicy, FeedbackCallersPolicy)."""
    return f"{function.capitalize()}CallersPolicy"
