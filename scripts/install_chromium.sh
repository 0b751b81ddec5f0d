#!/usr/bin/env bash
# Install Debian's chromium when absent (needs root): the report's browser test opens the
# HTML report in headless Chromium. Nothing is started here; the test runs the browser
# itself, on a local file, with no network.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "chromium is not installed and installing it needs root (apt-get)." >&2
    exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
