"""Identity's SMS: the common client (panjereh.common.messaging); identity is to call
``messaging.send_sms`` directly, and then this module goes."""

from panjereh.common import messaging


def send_sms(mobile: str, text: str) -> None:
    messaging.send_sms(mobile, text)
