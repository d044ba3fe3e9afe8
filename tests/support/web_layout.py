"""What a person sees as a broken page, measured in the browser (issue 21): a page wider than
the screen, a table cut off in its box, a header or a nav link split inside a word.

Why measured and not looked at: the pages are checked at a desk width (1280 px) and a phone's
(390 px) on every run, and a screenshot would need a person.  Lines are counted from the text's
own boxes (``Range.getClientRects`` over each text node), so the rule holds whatever the font:
an element may take as many lines as it has words (text split at spaces and ``<br>``), never
more — one line more means a word was broken.
"""

from __future__ import annotations

# Elements that may wrap only between words: every table header, and the header bar's brand,
# nav links, account name and logout button.
UNBROKEN = "th, header .brand, header nav a, header .who, header button"

_LAYOUT_JS = """
({tablesMayScroll, unbroken}) => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  const label = e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} «${
    (e.innerText || '').replace(/\\s+/g, ' ').trim().slice(0, 40)}»`;
  if (document.documentElement.scrollWidth > width) {
    problems.push(`page ${document.documentElement.scrollWidth} px wide in ${width} px`);
  }
  // Lines an element's text takes: its text fragments grouped by their vertical middle.
  const lines = e => {
    const mids = [];
    const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
    for (let t = walk.nextNode(); t; t = walk.nextNode()) {
      if (!t.textContent.trim()) continue;
      const r = document.createRange();
      r.selectNodeContents(t);
      for (const box of r.getClientRects()) {
        if (box.width > 0) mids.push((box.top + box.bottom) / 2);
      }
    }
    mids.sort((a, b) => a - b);
    let n = 0, last = -Infinity;
    for (const m of mids) { if (m - last > 4) n += 1; last = m; }
    return n;
  };
  for (const e of document.querySelectorAll(unbroken)) {
    const words = (e.innerText || '').split(/\\s+/).filter(Boolean).length;
    const n = lines(e);
    if (n > words) problems.push(`${label(e)} on ${n} lines (${words} words)`);
  }
  for (const table of document.querySelectorAll('main table')) {
    const box = table.parentElement;
    const right = box.getBoundingClientRect().right;
    if (right > width + 0.5) problems.push(`box of ${label(table)} ends at ${right} px`);
    const scroller = box.classList.contains('wide');
    const over = box.scrollWidth - box.clientWidth;
    const tableOver = table.getBoundingClientRect().width - box.clientWidth;
    if (scroller ? over > 0 && !tablesMayScroll : Math.max(over, tableOver) > 0.5) {
      problems.push(`${label(table)} overflows its box by ${Math.max(over, tableOver)} px`);
    }
  }
  return problems;
}
"""


def layout_problems(page, tables_may_scroll: bool, unbroken: str = UNBROKEN) -> list[str]:
    """Everything broken on the page as shown; ``tables_may_scroll`` lets a wide table scroll
    inside its own ``.wide`` box (the phone layout), never anything else.  ``unbroken`` adds
    elements (a CSS selector) that may wrap only between words."""
    return page.evaluate(_LAYOUT_JS, {"tablesMayScroll": tables_may_scroll, "unbroken": unbroken})


def shows_only_the_bad_month_error(page, base: str, figures: str) -> None:
    """``?period=2026-13``: 400, the error and the month picker, none of ``figures`` (a CSS
    selector list of what would otherwise read as that month's data)."""
    response = page.goto(base + "/?period=2026-13")
    assert response is not None and response.status == 400
    assert page.locator(".card .error", has_text="月份格式不正确").is_visible()
    assert page.locator("#period").is_visible()
    assert page.locator(figures).count() == 0
