"""The dashboard in a real browser: headless Chromium (Debian's `chromium` + `chromium-driver`)
driven by selenium. `nox -s dashboard` installs selenium and runs these; elsewhere they skip."""

from __future__ import annotations

import json
import shutil

import pytest

from ryot.cli import main
from ryot.history.simulated import machine, simulated_report

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed "
                                "(nox -s dashboard installs it)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and "
                                 "chromium-driver (apt-get install chromium chromium-driver)")]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site")
    paths = []
    for i in range(30):
        for facts in (machine(), machine("Other CPU", 8)):
            r = simulated_report(i, {"speed": 1.0 if i < 15 else 0.9, "memory": 2.0}, seed=1,
                                 machine_facts=facts)
            path = tmp / f"r{i}-{facts['id']}.json"
            path.write_text(json.dumps(r))
            paths.append(str(path))
    assert main(["history", "add", "--db", str(tmp / "h.sqlite"), *paths]) == 0
    assert main(["history", "html", "--db", str(tmp / "h.sqlite"), "--out", str(tmp / "out")]) == 0
    return tmp / "out" / "index.html"


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def test_the_page_shows_a_card_per_criterion_a_point_per_report_a_marker_per_change(site, browser,
                                                                                   tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(site.as_uri())
    shown = browser.find_element(By.CSS_SELECTOR, ".machine.shown")
    cards = shown.find_elements(By.CSS_SELECTOR, ".card")
    assert sorted(c.get_attribute("data-criterion") for c in cards) == ["memory", "speed"]
    for card in cards:
        assert len(card.find_elements(By.CSS_SELECTOR, "circle.point")) == 30
    speed = next(c for c in cards if c.get_attribute("data-criterion") == "speed")
    assert len(speed.find_elements(By.CSS_SELECTOR, ".change-point.regression")) == 1
    assert len(browser.find_elements(By.CSS_SELECTOR, ".machine.shown")) == 1
    select = Select(browser.find_element(By.ID, "machine"))
    first = shown.get_attribute("data-machine")
    select.select_by_index(1)
    now = browser.find_element(By.CSS_SELECTOR, ".machine.shown").get_attribute("data-machine")
    assert now != first
    png = tmp_path / "shot.png"
    browser.save_screenshot(str(png))
    from matplotlib.image import imread
    pixels = imread(str(png))
    assert pixels.std() > 0.01  # not a blank page
    link = speed.find_element(By.CSS_SELECTOR, "a").get_dom_attribute("href")
    assert link.endswith(".json") and (site.parent / "reports").is_dir()
