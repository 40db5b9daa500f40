"""The CloudFormation outputs through which `modelwatch publish --stack NAME` finds the registry.
The CDK stack declares them with these keys; the CLI reads them back."""

MODEL_BUCKET = "ModelBucket"
MODEL_PREFIX = "ModelPrefix"
POINTER_PARAMETER = "ModelPointerParameter"
