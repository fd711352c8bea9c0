"""The pages work under the site's real Content-Security-Policy.

The other browser tests bypass CSP (``bypass_csp=True``) so that axe-core can be injected as an
inline script; these do not, so a script, style or resource that the policy blocks shows up here.
"""

import pytest

from tests.browser.helpers import require_playwright

expect = require_playwright().expect

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", event => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


@pytest.mark.parametrize(
    ("path", "own_scripts"),
    [("/", True), ("/en/", True), ("/konto/logga-in/", True), ("/admin/login/", False)],
)
def test_page_raises_no_csp_violation(csp_page, path, own_scripts):
    csp_page.add_init_script(RECORD_VIOLATIONS)
    csp_page.goto(path)
    csp_page.wait_for_load_state("load")
    if own_scripts:  # the vendored Bootstrap bundle ran
        assert csp_page.evaluate("typeof window.bootstrap") == "object"
    assert csp_page.evaluate("window.__cspViolations") == []
