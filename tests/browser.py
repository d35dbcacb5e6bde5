"""A real Chromium for the web console's tests, installed from Debian when missing (as
tests/pgserver.py does for PostgreSQL) and driven by Selenium through chromium-driver."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

PACKAGES = ["chromium", "chromium-driver"]
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    "--lang=fr",
)


def _binaries() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def _install() -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError("Chromium is missing: install the 'chromium chromium-driver' packages")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "-q", *PACKAGES]
    if subprocess.run(command, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True, capture_output=True)
        subprocess.run(command, env=env, check=True, capture_output=True)


def binaries() -> tuple[str, str]:
    found = _binaries()
    if found is None:
        _install()
        found = _binaries()
    if found is None:
        raise RuntimeError("Chromium not found, even after apt-get install chromium")
    return found


def start(profile: Path) -> webdriver.Chrome:
    """A headless browser with a fresh profile; nothing it does leaves 127.0.0.1."""
    browser, driver = binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)
