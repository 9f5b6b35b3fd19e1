"""The accessibility check itself: it must fail when a page breaks WCAG."""

from __future__ import annotations

import pytest

from tests.e2e.steps import given_i_open, then_the_page_is_accessible

pytestmark = pytest.mark.e2e

_IMAGE_WITHOUT_ALT = (
    "document.querySelector('main').insertAdjacentHTML('beforeend',"
    ' \'<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="10" height="10">\')'
)


def test_the_accessibility_check_fails_on_an_image_without_alternative_text(page):
    given_i_open(page, "/accessibility/")
    page.evaluate(_IMAGE_WITHOUT_ALT)
    with pytest.raises(AssertionError, match=r"\[critical\] image-alt: Images must have alternat"):
        then_the_page_is_accessible(page, "check-catches-a-violation")
