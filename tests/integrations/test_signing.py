import base64

from integrations import signing

# The Standard Webhooks specification's published test vector.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


class TestSignatures:
    def test_it_reproduces_the_specifications_test_vector(self):
        assert signing.sign(SECRET, MESSAGE_ID, TIMESTAMP, BODY) == EXPECTED

    def test_a_receiver_accepts_the_vector_and_rejects_any_change(self):
        assert signing.verify(SECRET, MESSAGE_ID, TIMESTAMP, BODY, EXPECTED, now=TIMESTAMP + 10)
        assert not signing.verify(SECRET, MESSAGE_ID, TIMESTAMP, b'{"test": 2432232315}', EXPECTED, now=TIMESTAMP)
        assert not signing.verify(SECRET, "msg_other", TIMESTAMP, BODY, EXPECTED, now=TIMESTAMP)
        assert not signing.verify(SECRET, MESSAGE_ID, TIMESTAMP + 1, BODY, EXPECTED, now=TIMESTAMP)

    def test_a_receiver_rejects_a_timestamp_more_than_five_minutes_off(self):
        assert not signing.verify(SECRET, MESSAGE_ID, TIMESTAMP, BODY, EXPECTED, now=TIMESTAMP + 301)
        assert not signing.verify(SECRET, MESSAGE_ID, TIMESTAMP, BODY, EXPECTED, now=TIMESTAMP - 301)

    def test_during_a_rotation_both_signatures_are_sent_space_separated(self):
        new = signing.generate_secret()
        header = signing.signature_header([new, SECRET], MESSAGE_ID, TIMESTAMP, BODY)
        first, second = header.split(" ")
        assert second == EXPECTED
        assert signing.verify(new, MESSAGE_ID, TIMESTAMP, BODY, header, now=TIMESTAMP)
        assert signing.verify(SECRET, MESSAGE_ID, TIMESTAMP, BODY, header, now=TIMESTAMP)
        assert not signing.verify(signing.generate_secret(), MESSAGE_ID, TIMESTAMP, BODY, header, now=TIMESTAMP)

    def test_secrets_carry_at_least_24_random_bytes(self):
        secrets = {signing.generate_secret() for _ in range(20)}
        assert len(secrets) == 20
        for secret in secrets:
            assert secret.startswith("whsec_")
            assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
