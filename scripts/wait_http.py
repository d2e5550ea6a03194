"""Wait until a URL answers 200 (and, for LocalStack's health, names services).

usage: wait_http.py URL TIMEOUT_SECONDS [SERVICE ...]
"""

import json
import sys
import time
import urllib.request

url, timeout, services = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
deadline = time.monotonic() + timeout
while True:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own loopback URL)
            body = response.read()
        if not services:
            sys.exit(0)
        states = json.loads(body).get("services", {})
        if all(states.get(s) in {"available", "running"} for s in services):
            sys.exit(0)
    except (OSError, ValueError):
        pass  # not up yet: keep waiting
    if time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.3)
