"""One JupyterLab server and one headless Chromium for the whole browser suite.

The tests skip, saying how to enable them, where Chromium or the playwright package is missing.
Screenshots and the latency table go to $BROWSER_ARTIFACTS (default: a folder in the system's
temporary directory); the test run prints where.
"""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from labdriver import CHROMIUM, CHROMIUM_ARGS, LabServer, Timing
from browser_report import artifacts_dir, write_report


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing: pip install -e '.[dev]'"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}: apt-get install chromium (or set COURSE_CHROMIUM to its path)"
    return None


@pytest.fixture(scope="session")
def artifacts():
    folder = artifacts_dir()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="session")
def timings(artifacts):
    """Every widget test appends its Timing (and Rate) rows; the tables are written when the session ends."""
    rows: list[Timing] = []
    yield rows
    write_report(artifacts, rows)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    reason = _missing()
    if reason:
        pytest.skip(f"browser tests need Chromium and playwright: {reason}")
    server = LabServer(tmp_path_factory.mktemp("jupyterlab"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def page(lab):
    """A student's page: the JupyterLab that the README's start command opens."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(lab.lab_url("student", "notebooks/00_setup.ipynb"))
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget?.context?.isReady",
                               timeout=90_000)
        yield page
        browser.close()
