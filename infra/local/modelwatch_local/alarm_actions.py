"""CloudWatch executing an alarm's SNS actions, which moto does not do: when an alarm that moto
holds changes state (set_alarm_state, in-process or through moto's server), its actions for
the new state publish the notice to their topics as CloudWatch would, judged first by the
topic's policy and key policy (modelwatch.policy_evaluation). A refused publish is not
delivered, and the alarm's history records each action's outcome in CloudWatch's words
("Successfully executed action ...", "Failed to execute action ...")."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from modelwatch.policy_evaluation import alarm_publish_decision
from modelwatch_local.held_policies import topic_policies

_INSTALLED = "_modelwatch_executes_actions"


def install() -> None:
    """Patch moto's alarms to execute their actions (once per process)."""
    from moto.cloudwatch.models import Alarm

    if getattr(Alarm.update_state, _INSTALLED, False):
        return
    original = Alarm.update_state

    def update_state(self: Any, reason: str, reason_data: str, state_value: str) -> None:
        old = self.state_value
        original(self, reason, reason_data, state_value)
        if not self.actions_enabled or state_value == old:
            return
        actions = {
            "ALARM": self.alarm_actions,
            "OK": self.ok_actions,
            "INSUFFICIENT_DATA": getattr(self, "insufficient_data_actions", []),
        }[state_value]
        for action in actions or []:
            execute(self, action, old, state_value, reason)

    setattr(update_state, _INSTALLED, True)
    Alarm.update_state = update_state


def execute(alarm: Any, action: str, old: str, new: str, reason: str) -> None:
    """One SNS action of an alarm's state change, as CloudWatch performs it."""
    from moto.sns.models import sns_backends  # moto is the local runtime's own dependency

    if not action.startswith("arn:aws:sns:"):
        return  # Auto Scaling, EC2 and Systems Manager actions are not ModelWatch's
    _, _, _, region, account, _ = action.split(":", 5)
    held = topic_policies(action)
    if held is None:
        _record(alarm, action, f'Failed to execute action {action}. Received error: "Topic does not exist"')
        return
    policy, key, key_policy = held
    decision = alarm_publish_decision(alarm.alarm_arn, action, policy, key_policy, key)
    if not decision:
        _record(alarm, action, f'Failed to execute action {action}. Received error: "{decision.reason}"')
        return
    message = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
        "NewStateValue": new,
        "NewStateReason": reason,
        "StateChangeTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "Region": region,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old,
    }
    sns_backends[account][region].topics[action].publish(
        json.dumps(message), subject=f'{new}: "{alarm.name}" in {region}'
    )
    _record(alarm, action, f"Successfully executed action {action}")


def _record(alarm: Any, action: str, summary: str) -> None:
    alarm.history.append(("Action", summary, json.dumps({"actionArn": action}), alarm.state_value, datetime.now(UTC)))
