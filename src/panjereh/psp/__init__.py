"""A simulated payment service provider (PSP, «درگاه پرداخت اینترنتی»): a bank's system.

Like the simulated registries, this package imports nothing from Django or from Panjereh's
apps: a bank shares no code or database with the national window. It runs as its own process
(:mod:`.server`, started by :mod:`.supervisor`) and is reached only over HTTP, the way an Iranian
internet payment gateway is: the merchant asks for a token, sends the payer to the bank's page,
receives a signed result through the payer's browser (the callback), and must verify the
payment within a deadline or the bank reverses it. The bank also answers inquiries, reversals
and refunds and publishes a daily settlement file.

The simulator's protocol is its own (documented in docs/payments.md), not any bank's.
"""

# Test cards (16 digits, Luhn-valid): what each does on the bank's page.
TEST_CARDS: dict[str, str] = {
    "6037990000000006": "success",
    "6037990000000014": "insufficient_funds",
    "6037990000000022": "timeout",
    "6037990000000030": "no_callback",
    "6037990000000048": "duplicate_callback",
}
