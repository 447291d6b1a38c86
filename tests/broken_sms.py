"""An SMS provider module whose gateway is down (the tests name it in PANJEREH_SMS_PROVIDER)."""

from panjereh.common.messaging import SmsClient


class Client(SmsClient):
    name = "broken"

    def send_sms(self, to: str, content: str, *, reference: str | None = None) -> None:
        raise ConnectionError("operator gateway down")
