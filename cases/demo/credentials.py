"""The demo's published credentials (README.md). Plain constants: `make run`
prints them before Django is set up."""

DEMO_PASSWORD = "puente-demo-2026"
# Every demo account that opens the admin has an authenticator app enrolled with
# this published secret: a demo, never a real deployment (see README.md).
DEMO_TOTP_SECRET = "PUENTEDEMOTOTPSECRETFORSTAFFONLY"
DEMO_TOTP_CODE_COMMAND = (
    """.venv/bin/python -c "import base64; from django_otp.oath import totp; """
    f"""print('%06d' % totp(base64.b32decode('{DEMO_TOTP_SECRET}')))" """.rstrip()
)
