"""What Slack delivers to the bot, built and signed as Slack does it.

With the sandbox there is no Slack to deliver a mention or a button click to the bot:
``steptrace demo`` (and the tests) play that part. The bodies follow Slack's Events API
(``event_callback`` with an ``app_mention``) and interactivity (``block_actions``)
payloads, and the headers carry Slack's request signature: ``v0=`` HMAC-SHA256 of
``v0:{timestamp}:{body}`` with the app's signing secret.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from connectors.sandbox.seed import SLACK_TEAM_ID

APP_ID = "A0STEPAPP"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def signed_headers(body: str, content_type: str, secret: str, *, age: int = 0) -> dict[str, str]:
    """Slack's headers for ``body``; ``age`` seconds in the past (a stale request)."""
    timestamp = str(int(time.time()) - age)
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    if signature is None:
        raise ValueError("no signature: the signing secret is empty")
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": signature,
    }


def mention_body(user: str, channel: str, message: dict[str, Any]) -> str:
    """The ``app_mention`` event for ``message`` (a sandbox message that mentions the bot)."""
    return json.dumps(
        {
            "token": "unused",
            "team_id": SLACK_TEAM_ID,
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event_id": f"Ev{str(message['ts']).replace('.', '')}",
            "event_time": int(time.time()),
            "event": {
                "type": "app_mention",
                "user": user,
                "text": message["text"],
                "ts": message["ts"],
                "thread_ts": message.get("thread_ts"),
                "channel": channel,
                "event_ts": message["ts"],
            },
        }
    )


def click_body(action_id: str, user: str, alert: dict[str, Any]) -> str:
    """The ``block_actions`` payload of a click on button ``action_id`` of ``alert``."""
    button = next(
        element
        for block in alert.get("blocks") or []
        if block.get("type") == "actions"
        for element in block["elements"]
        if element.get("action_id") == action_id
    )
    payload = {
        "type": "block_actions",
        "team": {"id": SLACK_TEAM_ID},
        "user": {"id": user},
        "api_app_id": APP_ID,
        "channel": {"id": alert["channel"]},
        "container": {"type": "message", "message_ts": alert["ts"], "channel_id": alert["channel"]},
        "message": {"ts": alert["ts"], "text": alert.get("text", "")},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "steptrace_actions",
                "value": button["value"],
            }
        ],
        "trigger_id": "1.2.3",
        "response_url": "https://hooks.slack.invalid/actions/1",
    }
    return urlencode({"payload": json.dumps(payload)})


def command_body(text: str, user: str, channel: str) -> str:
    """``/steptrace <text>`` typed by ``user`` in ``channel`` (an id)."""
    return urlencode(
        {
            "token": "unused",
            "team_id": SLACK_TEAM_ID,
            "channel_id": channel,
            "user_id": user,
            "command": "/steptrace",
            "text": text,
            "response_url": "https://hooks.slack.invalid/commands/1",
            "trigger_id": "1.2.3",
        }
    )


async def deliver(url: str, body: str, content_type: str, secret: str) -> httpx.Response:
    """POST ``body`` to the bot at ``url``, signed with ``secret``."""
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(
            url, content=body, headers=signed_headers(body, content_type, secret)
        )
