"""The HTML report (studies.report.html.render_html): its markup, then the page as headless Chromium shows it.

The browser check fails on any console error, on an image that did not decode, on a missing section
id, on a table that is not laid out as meant (numbers right-aligned, the best value bold) or a page
wider than the window; it saves a screenshot of its made-up page (numbers chosen to exercise the
formatting, not results) to results/screenshots/, which git ignores. It then opens the committed
default study's report (results/default-study/report.html) at 1280 px: every figure loaded, every table
cell aligned, the findings first, no horizontal scrolling; and writes its whole-page screenshot beside
it (report.png, committed) whenever the report changed since the last one (the PNG records the
report's SHA-256). Without Chromium and chromedriver both are skipped: ``apt-get install chromium
chromium-driver`` (Debian) to run them.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from PIL import Image, PngImagePlugin

from studies.report.html import FINDINGS_ID, best_rows, format_number, header_label, render_html
from wgan.io import atomic_write

REPO = Path(__file__).resolve().parents[1]
SCREENSHOT = REPO / "results" / "screenshots" / "report_browser_test.png"
DEFAULT_STUDY_PAGE = REPO / "results" / "default-study" / "report.html"
DEFAULT_STUDY_SHOT = DEFAULT_STUDY_PAGE.with_suffix(".png")
REPORT_HASH_KEY = "report-sha256"  # the PNG text chunk naming the report.html the screenshot shows
READING_WIDTH = 1280
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL_HINT = "apt-get install chromium chromium-driver (Debian) to run the report's browser check"
TITLE = "wganbench: GAN vs WGAN settings on MNIST"
SECTION_IDS = ["final-scores-mean-std-over-seeds", "cost", "ranking", "fid-versus-generator-step",
               "final-fixed-noise-samples"]
BEST = {"fid": "min", "fid_mean": "min", "is_mean": "max", "is_mean_mean": "max", "modes_covered": "max",
        "modes_covered_mean": "max", "images_per_s": "max", "s_to_fid_150": "min"}


def figure(path: Path, kind: str) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 4))
    steps = np.array([150, 300, 450, 600])
    if kind == "curve":
        for name, fid in (("gan", [420.0, 310.5, 250.2, 192.5]), ("wgan-gp", [380.2, 220.7, 150.1, 109.5])):
            ax.plot(steps, fid, marker="o", label=name)
        ax.set_xlabel("generator step")
        ax.set_ylabel("FID")
        ax.legend()
    else:
        ax.imshow(np.random.default_rng(0).integers(0, 255, (66, 66)), cmap="gray")
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80, format="png")
    plt.close(fig)
    return path


def report(tmp_path: Path) -> str:
    shown = pd.DataFrame({"setting": ["gan", "wgan-gp"], "seeds": [2, 2], "fid": ["192.5 ± 12", "109.5 ± 4.1"],
                          "is_mean": ["6.812 ± 0.21", "8.034 ± 0.12"], "modes_covered": ["9 ± 0", "10 ± 0"]})
    cost = pd.DataFrame({"setting": ["gan", "wgan-gp"], "steps": [3124.0, 702.5], "wall_s": [540.21, 539.877],
                         "images_per_s": [1850.456, 3322.1234], "s_to_fid_150": [np.nan, 412.3456]})
    ranking = pd.DataFrame({"rank": [1, 2], "setting": ["wgan-gp", "gan"], "fid_mean": [109.5312, 192.4871],
                            "is_mean_mean": [8.0344, 6.8123], "recall_mean": [0.000123456, 12345.678]})
    findings = ["`wgan-gp` reaches the lowest final FID (109.5, 10 of 10 digit classes covered); `gan` the "
                "highest (192.5).", "Fastest training: `wgan-gp` at 3322 images/s; slowest: `gan` at 1850 images/s."]
    figures = [("FID versus generator step", figure(tmp_path / "fid_vs_step.png", "curve")),
               ("Final fixed-noise samples", figure(tmp_path / "samples.png", "grid"))]
    return render_html(TITLE, "Settings gan, wgan-gp; seeds 0, 1; 540 s of training per run at batch `64`.",
                       findings, [("Final scores (mean ± std over seeds)", shown), ("Cost", cost),
                                  ("Ranking", ranking)], figures, best=BEST)


def test_best_values() -> None:
    assert best_rows(pd.Series([3.0, 1.0, 1.0]), "min") == {1, 2}
    assert best_rows(pd.Series(["557.4 ± 12", "570.0 ± 3"]), "max") == {1}
    assert best_rows(pd.Series([np.nan, 412.3]), "min") == {1}
    assert best_rows(pd.Series([5.0, 5.0]), "max") == set() and best_rows(pd.Series([5.0]), "max") == set()


def test_units_and_number_formats() -> None:
    assert header_label("wall_s") == "wall (s)"
    assert header_label("images_per_s") == "images/s"
    assert header_label("s_to_fid_150") == "time to fid 150 (s)"
    assert header_label("fid_mean") == "fid mean"
    assert [format_number(v) for v in (109.5312, 0.000123456, 12345.678, 3124.0, 2, np.int64(12000), np.nan,
                                       0.0, 1e-7)] == [
        "109.5", "0.0001235", "12,350", "3,124", "2", "12,000", "–", "0", "1e-07"]


def test_the_page_stands_alone_with_findings_first_and_marked_best_values(tmp_path) -> None:
    page = report(tmp_path)
    assert 'border="1"' not in page and "dataframe" not in page
    assert page.count('src="data:image/png;base64,') == 2 and "fid_vs_step.png" not in page
    assert re.search(r"<header>.*</header>\s*<section id=\"findings\">", page, re.S)  # right after the intro
    assert page.index(f'id="{FINDINGS_ID}"') < page.index("<table")
    assert "<code>wgan-gp</code> reaches" in page and "batch <code>64</code>" in page
    assert all(f'id="{anchor}"' in page for anchor in SECTION_IDS)
    assert '<th scope="col" class="num" title="wall_s">wall (s)</th>' in page
    assert '<th scope="col" class="num" title="images_per_s">images/s</th>' in page
    assert '<th scope="col" title="setting">setting</th>' in page  # text stays left-aligned
    assert '<td class="num best">109.5 ± 4.1</td>' in page and '<td class="num">192.5 ± 12</td>' in page
    assert '<td class="num best">3,322</td>' in page and '<td class="num missing">–</td>' in page
    assert '<td class="num best">412.3</td>' in page  # the one run that reached the target
    assert '<td class="num best">109.5</td>' in page and '<td class="num best">8.034</td>' in page
    assert '<td class="num">540.2</td>' in page  # wall_s is not a score: nothing is bold
    assert "0.0001235" in page and "12,350" in page


def chromium() -> str | None:
    return next((path for name in ("chromium", "chromium-browser", "google-chrome")
                 if (path := shutil.which(name))), None)


@contextlib.contextmanager
def browser_at(width: int, height: int) -> Iterator:
    """Headless Chromium with a ``width`` × ``height`` window (skips the test without it)."""
    webdriver = pytest.importorskip("selenium.webdriver", reason=f"selenium is not installed; pip install "
                                    f"selenium, and {INSTALL_HINT}")
    browser = chromium()
    driver_path = CHROMEDRIVER if CHROMEDRIVER.exists() else Path(shutil.which("chromedriver") or CHROMEDRIVER)
    if browser is None or not driver_path.exists():
        pytest.skip(f"Chromium or chromedriver is not installed: {INSTALL_HINT}")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}",
                 "--hide-scrollbars"):
        options.add_argument(flag)
    options.binary_location = browser
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(driver_path)), options=options)
    try:
        driver.set_window_size(width, height)
        yield driver
    finally:
        driver.quit()


def images_loaded(driver) -> list:
    """Each image as [alt, complete, natural width, natural height]."""
    return driver.execute_script(
        "return [...document.images].map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])")


def overflow_px(driver) -> int:
    return driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")


def console_errors(driver) -> list:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.mark.slow
def test_the_report_reads_in_a_real_browser(tmp_path) -> None:
    page = tmp_path / "report.html"
    page.write_text(report(tmp_path), encoding="utf-8")
    with browser_at(1200, 2000) as driver:
        driver.get(page.as_uri())
        assert driver.title == TITLE
        images = images_loaded(driver)
        assert len(images) == 2
        assert all(complete and width > 0 and height > 0 for _, complete, width, height in images), images
        missing = [a for a in [FINDINGS_ID, *SECTION_IDS] if driver.execute_script(
            "return document.getElementById(arguments[0]) === null", a)]
        assert not missing, f"sections without their id: {missing}"
        first = driver.execute_script("return document.querySelector('header').nextElementSibling.id")
        assert first == FINDINGS_ID
        styles = driver.execute_script(
            "const s = e => getComputedStyle(document.querySelector(e));"
            "return [s('td.num').textAlign, s('td:not(.num)').textAlign, s('td.best').fontWeight, "
            "s('td.num:not(.best)').fontWeight, s('tbody tr:nth-child(2)').backgroundColor, "
            "s('tbody tr:nth-child(1)').backgroundColor, s('body').maxWidth]")
        assert styles[:4] == ["right", "left", "700", "400"]
        assert styles[4] != styles[5], "rows are not striped"
        assert styles[6] != "none", "the text runs the window's full width"
        assert overflow_px(driver) <= 0, f"the page is {overflow_px(driver)} px wider than the window"
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(SCREENSHOT))
        assert not console_errors(driver), f"browser console errors: {console_errors(driver)}"


def shown_report(screenshot: Path) -> str | None:
    """The SHA-256 of the report.html that ``screenshot`` shows (None: no screenshot, or not one of these)."""
    if not screenshot.is_file():
        return None
    with Image.open(screenshot) as image:
        return image.text.get(REPORT_HASH_KEY)


@pytest.mark.slow
def test_the_committed_default_study_reads_in_a_real_browser() -> None:
    digest = hashlib.sha256(DEFAULT_STUDY_PAGE.read_bytes()).hexdigest()
    with browser_at(READING_WIDTH, 1000) as driver:
        driver.get(DEFAULT_STUDY_PAGE.as_uri())
        images = images_loaded(driver)
        figures = DEFAULT_STUDY_PAGE.read_text(encoding="utf-8").count("<img ")
        assert len(images) == figures > 0
        assert all(complete and width > 0 and height > 0 for _, complete, width, height in images), images
        assert driver.execute_script("return document.querySelector('header').nextElementSibling.id") == FINDINGS_ID
        # Every cell, not one: numbers right, text left, in every table of the report.
        aligned = driver.execute_script(
            "const cells = [...document.querySelectorAll('td, th[scope=col]')];"
            "return [cells.length, cells.filter(c => getComputedStyle(c).textAlign !== "
            "(c.classList.contains('num') ? 'right' : 'left')).map(c => c.textContent).slice(0, 5)]")
        assert aligned[0] > 0 and aligned[1] == [], f"cells aligned against their kind: {aligned[1]}"
        assert overflow_px(driver) <= 0, f"the report is {overflow_px(driver)} px wider than {READING_WIDTH} px"
        assert not console_errors(driver), f"browser console errors: {console_errors(driver)}"
        if shown_report(DEFAULT_STUDY_SHOT) != digest:  # the report changed: its screenshot follows it
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(READING_WIDTH, height)
            meta = PngImagePlugin.PngInfo()
            meta.add_text(REPORT_HASH_KEY, digest)
            with Image.open(io.BytesIO(driver.get_screenshot_as_png())) as shot:
                atomic_write(DEFAULT_STUDY_SHOT, lambda tmp: shot.save(tmp, format="PNG", pnginfo=meta,
                                                                       optimize=True))
    assert shown_report(DEFAULT_STUDY_SHOT) == digest
