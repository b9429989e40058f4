"""Make README's picture of a digest: run the demo in a temporary folder and take a
screenshot of the Dutch HR adviser's edition as the archive shows it, with Debian's
headless Chromium (Playwright, no browser download).

    python docs/screenshot.py            # writes docs/digest-nl.png
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
EDITION = "nl-social-media-werk_verzuim-burnout_cao-lonen.html"  # the HR adviser's
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="trendwatch-shot-") as tmp:
        subprocess.run(
            [sys.executable, "-m", "pipeline", "demo", "demo"],
            cwd=tmp,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COLUMNS": "100"},
            check=True,
            capture_output=True,
        )
        [page_path] = Path(tmp, "demo", "data", "archive").glob(f"*/W*/{EDITION}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 720, "height": 1400})
            page.goto(page_path.as_uri())
            out = ROOT / "docs" / "digest-nl.png"
            page.screenshot(path=str(out), full_page=False)
            browser.close()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
