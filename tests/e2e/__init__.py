"""End-to-end tests: real JupyterLab and headless Chromium (see harness.py)."""
