"""What the deployed stack costs a month, counted from what the stack creates and the functions
emit: the spec, the alarm plan, the metric and function catalogues, and (optionally) the
synthesized template. Prices are one data file (`prices.toml`); the per-invocation facts the
catalogues cannot give (bytes logged, wall time) are measured on the local stack
(`footprint.toml`). Pure Python: no boto3, no CDK."""
