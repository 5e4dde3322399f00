"""What the suite needs beyond the venv, made ready once before it runs (``make test-setup``).

Debian's Chromium for the browser tests (``apt-get``, as root) and the application's Prisma
toolchain (``npm ci`` and ``prisma generate`` in ``tests/prisma/node``). The tests find both
ready and only check for them, instead of each test worker racing to install them inside
the timed run. Both steps are no-ops when already done. Exit status 1, with one line saying
what failed, when either cannot be made ready.
"""

from __future__ import annotations

import sys
import time

from tests.prisma.toolchain import ToolchainError, ToolchainUnavailableError, ensure_toolchain
from tests.web.browser import ChromiumUnavailableError, install_chromium


def main() -> int:
    started = time.monotonic()
    try:
        chromium = install_chromium()
        toolchain = ensure_toolchain()
    except (ChromiumUnavailableError, ToolchainError, ToolchainUnavailableError) as exc:
        print(f"test setup: {exc}", file=sys.stderr)
        return 1
    print(
        f"test setup: chromium at {chromium}; Prisma toolchain ready on node "
        f"{toolchain.node_version} ({time.monotonic() - started:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
