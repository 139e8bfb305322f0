"""The history's two speed goals, measured: `ryot history add` of 1,000 reports (< 30 s) and the
dashboard of 50 criteria x 200 reports loading in headless Chromium (< 2 s).

The reports are simulated (ryot's runner and seal on made-up samples; ryot.history.simulated):
the work measured is ryot's, not a provider's. Each figure is the wall time of the command as a
user runs it (a fresh `python -m ryot.cli` process, imports included), and for the page the time
from `driver.get` until the load event, plus the browser's own Navigation Timing figure.

    python scripts/history_scale.py --out docs/data/history_scale.json

Needs Debian's chromium + chromium-driver and selenium for the page; without them the page
figure is recorded as not measured, with the reason.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ryot.history.simulated import simulated_report
from ryot.infra import machine_id


def _write_reports(folder: Path, count: int, criteria: int, machines: list[dict]) -> list[str]:
    paths = []
    for i in range(count):
        facts = machines[i % len(machines)]
        levels = {f"criterion_{c:02d}": 1.0 + 0.01 * c - (0.05 if i > count // 2 else 0)
                  for c in range(criteria)}
        path = folder / f"r{i:04d}.json"
        path.write_text(json.dumps(simulated_report(i // len(machines), levels, seed=i % 7,
                                                    machine_facts=facts)))
        paths.append(str(path))
    return paths


def _ryot(*args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ryot.cli", *args], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def measure_add(folder: Path, repeats: int) -> dict:
    from ryot.history.simulated import machine

    paths = _write_reports(folder, 1000, 5, [machine(), machine("Other CPU", 8)])
    seconds = []
    for r in range(repeats):
        seconds.append(_ryot("history", "add", "--db", str(folder / f"add{r}.sqlite"), *paths))
    again = _ryot("history", "add", "--db", str(folder / "add0.sqlite"), *paths)
    return {"reports": 1000, "criteria_per_report": 5, "seconds": seconds,
            "median_seconds": statistics.median(seconds), "goal_seconds": 30,
            "seconds_adding_the_same_again": again}


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def measure_page(folder: Path, repeats: int, screenshot: str | None) -> dict:
    if not ((shutil.which("chromium") or shutil.which("chromium-browser"))
            and shutil.which("chromedriver")):
        return {"measured": False, "why": "chromium and chromium-driver are not installed"}
    try:
        import selenium  # noqa: F401
    except ImportError:
        return {"measured": False, "why": "selenium is not installed"}
    from ryot.history.simulated import machine

    paths = _write_reports(folder, 200, 50, [machine()])
    db = folder / "page.sqlite"
    add_seconds = _ryot("history", "add", "--db", str(db), *paths)
    html_seconds = _ryot("history", "html", "--db", str(db), "--out", str(folder / "site"))
    index = (folder / "site" / "index.html").as_uri()
    driver = _browser()
    try:
        wall, navigation, points = [], [], 0
        for _ in range(repeats):
            driver.get("about:blank")
            t0 = time.perf_counter()
            driver.get(index)  # returns once the load event has fired
            wall.append(time.perf_counter() - t0)
            navigation.append(driver.execute_script(
                "var t=performance.getEntriesByType('navigation')[0];"
                "return (t.loadEventEnd - t.startTime) / 1000;"))
            points = driver.execute_script("return document.querySelectorAll("
                                           "'.machine.shown circle.point').length;")
        if screenshot:
            driver.save_screenshot(screenshot)
    finally:
        driver.quit()
    return {"measured": True, "criteria": 50, "reports": 200, "points_on_page": points,
            "page_bytes": (folder / "site" / "index.html").stat().st_size,
            "add_seconds": add_seconds, "html_seconds": html_seconds,
            "load_seconds": wall, "median_load_seconds": statistics.median(wall),
            "navigation_timing_seconds": navigation,
            "median_navigation_timing_seconds": statistics.median(navigation), "goal_seconds": 2}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats of each figure")
    ap.add_argument("--out", help="write the figures here (JSON)")
    ap.add_argument("--screenshot", help="save a screenshot of the 50 x 200 page here (PNG)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "add").mkdir()
        (Path(tmp) / "page").mkdir()
        add = measure_add(Path(tmp) / "add", args.repeats)
        print(f"history add, 1000 reports: median {add['median_seconds']:.1f} s {add['seconds']}")
        page = measure_page(Path(tmp) / "page", args.repeats, args.screenshot)
        if page["measured"]:
            print(f"dashboard 50 x 200: load median {page['median_load_seconds']:.2f} s "
                  f"(navigation timing {page['median_navigation_timing_seconds']:.2f} s), "
                  f"{page['page_bytes'] / 1e6:.1f} MB, {page['points_on_page']} points")
        else:
            print(f"dashboard: not measured ({page['why']})")
    if args.out:
        figures = {"cpu": machine_id.facts()["cpu"], "cores": machine_id.facts()["cores"],
                   "command": "python " + " ".join(sys.argv), "add": add, "page": page}
        Path(args.out).write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
