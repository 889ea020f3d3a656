"""Another web process for the tests: answers API requests read from stdin
with its own memory (its own cached tokens), on the test database and Redis.

    python -m tests.api_core.web_process      # env: DATABASE_URL of the test database, REDIS_URL

One JSON line in (``{"path": …, "token": …}``), one out: the status, the body
and the number of database queries the request made."""
import json
import sys

import django


def main() -> None:
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()  # the test client's host name is allowed
    for line in sys.stdin:
        request = json.loads(line)
        with CaptureQueriesContext(connection) as queries:
            response = Client().get(request["path"], HTTP_AUTHORIZATION=f"Bearer {request['token']}",
                                    HTTP_ACCEPT_LANGUAGE="en")
        print(json.dumps({"status": response.status_code, "body": response.content.decode(),
                          "queries": len(queries)}), flush=True)


if __name__ == "__main__":
    main()
