"""What the functions' X-Ray tracing patches.

Only botocore: every outbound call a function makes is an AWS call. Powertools' Tracer patches
every library the X-Ray SDK knows by default, importing each one that happens to be installed
(requests alone costs about 25 ms of a cold start) to trace calls we never make.
"""

TRACED_MODULES = ("botocore",)
