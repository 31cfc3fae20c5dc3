#!/usr/bin/env bash
# The ops console's browser test drives a real headless Chromium through playwright-core. Playwright's own
# browser download is not used: Debian's `chromium` package is. Installed here when missing (as root with
# apt-get); CHROMIUM_PATH points the test at another binary.
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "${CHROMIUM_PATH}" ]; then exit 0; fi
for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$candidate" ]; then exit 0; fi
done
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "== installing Debian's chromium for the browser test"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null; }
  exit 0
fi
echo "chromium is missing: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH" >&2
exit 1
