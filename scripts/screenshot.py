"""Screenshot portal pages as a given demo user, through the real login form.

    .venv/bin/python scripts/screenshot.py --base http://127.0.0.1:8000 --user cd_regulator \
        --out var/shots /  /institutions/

Uses Debian's chromium (apt-get install chromium fonts-noto-cjk) driven by Playwright
(pip install -e '.[browser]'; Playwright cannot download browsers here, so none is downloaded).
"""

import argparse
import re
from pathlib import Path

from playwright.sync_api import sync_playwright

FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--user", default="")
    parser.add_argument("--password", default="Danbao@2026")
    parser.add_argument("--out", default="var/shots")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--lang", default="")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": args.width, "height": 900}, locale="zh-CN")
        if args.lang:  # Django's LocaleMiddleware reads the language cookie
            page.context.add_cookies([{"name": "django_language", "value": args.lang, "url": args.base}])
        if args.user:
            page.goto(f"{args.base}/accounts/login/")
            page.fill("#id_username", args.user)
            page.fill("#id_password", args.password)
            with page.expect_navigation():
                page.press("#id_password", "Enter")  # the header holds other forms (language switch)
        for path in args.paths:
            page.goto(f"{args.base}{path}")
            page.wait_for_timeout(1500)  # let chart animations finish
            name = re.sub(r"[^A-Za-z0-9]+", "_", f"{args.user}_{path}").strip("_") or "root"
            target = out / f"{name}.png"
            page.screenshot(path=str(target), full_page=True)
            print(target)
        browser.close()


if __name__ == "__main__":
    main()
