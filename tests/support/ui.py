"""Signing in to the admin web UI as a browser does, for tests that drive it over plain HTTP."""

import re

import requests


def sign_in(base_url, username, password, next_page=None, session=None):
    """A ``requests.Session`` signed in: it fetched the sign-in form first (its CSRF token and the
    cookie that token is tied to) and posted it from the gateway's own origin. Returns the session
    and the sign-in answer."""
    browser = session or requests.Session()
    form = browser.get(f"{base_url}/admin/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    data = {"username": username, "password": password, "csrf_token": token}
    if next_page:
        data["next"] = next_page
    answer = browser.post(
        f"{base_url}/admin/login", data=data, headers={"Origin": base_url}, allow_redirects=False, timeout=30
    )
    return browser, answer
