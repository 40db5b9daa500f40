"""The facts several places must agree on, each declared once: where data lives in S3
(`layout`), which metrics exist with their units and dimensions (`metrics`), and which functions
the stack deploys with everything they need (`functions`). The CDK stack, the functions, the
local runtime, the docs and the tests all read these; nothing types them out again."""
