"""A screenshot of a dashboard page in headless Chromium (Debian's chromium + chromium-driver,
selenium), as docs/history.md shows it.

    python scripts/dashboard_screenshot.py results/dashboard/index.html shot.png
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("page", help="the dashboard's index.html")
    ap.add_argument("png", help="where to save the screenshot")
    ap.add_argument("--size", default="1400,1000", help="window width,height (default 1400,1000)")
    args = ap.parse_args()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--window-size={args.size}",
                 "--hide-scrollbars"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.get(Path(args.page).resolve().as_uri())
        driver.save_screenshot(args.png)
    finally:
        driver.quit()
    print(args.png)


if __name__ == "__main__":
    main()
