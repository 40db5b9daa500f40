"""The CDK app: `npx cdk synth` (or `make synth`) writes the CloudFormation template to cdk.out.

Context (-c key=value) is documented in README.md; cdk-nag's AwsSolutions checks run on every
synth, and an unreviewed finding is an error; so is a delivery hop the template's policies refuse.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from modelwatch_infra.delivery_graph import refused_in_assembly
from modelwatch_infra.log_guard import dropped_log_lines
from modelwatch_infra.stack import build

app = cdk.App()
stack = build(app)
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
assembly = app.synth()
# Every delivery path (alarm -> topic, function -> dead letters, rule -> target, ...) must be
# allowed by the policies AWS will evaluate: a refused hop fails the synth, naming it.
refused = refused_in_assembly(assembly, stack.stack_name)
if refused:
    raise SystemExit("refused delivery hops:\n" + "\n".join(str(hop) for hop in refused))
dropped = dropped_log_lines(assembly.get_stack_by_name(stack.stack_name).template)
if dropped:
    raise SystemExit("\n".join(dropped))
