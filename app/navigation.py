"""The app's pages, in one table: main.py builds the sidebar navigation from it and serve.py knows by it which
URLs are pages (see index_page.py). Plain data, so the server can read it before any script runs."""

from __future__ import annotations

from typing import NamedTuple


class PageSpec(NamedTuple):
    script: str  # relative to app/
    title: str
    icon: str
    url_path: str


PAGES = [
    PageSpec("views/home.py", "Home", ":material/home:", "home"),  # the default page, also served at "/"
    PageSpec("views/discover.py", "Discover", ":material/search:", "discover"),
    PageSpec("views/product.py", "Product", ":material/dataset:", "product"),
    PageSpec("views/lineage.py", "Lineage", ":material/account_tree:", "lineage"),
    PageSpec("views/glossary.py", "Glossary", ":material/menu_book:", "glossary"),
    PageSpec("views/workbench.py", "Workbench", ":material/terminal:", "workbench"),
    PageSpec("views/marketplace.py", "Access & alerts", ":material/storefront:", "marketplace"),
    PageSpec("views/dashboards.py", "Dashboards", ":material/dashboard:", "dashboards"),
    PageSpec("views/scorecards.py", "Scorecards", ":material/scoreboard:", "scorecards"),
    PageSpec("views/review.py", "Owner review", ":material/rate_review:", "review"),
    PageSpec("views/incidents.py", "Incidents", ":material/crisis_alert:", "incidents"),
    PageSpec("views/governance.py", "Governance", ":material/policy:", "governance"),
    PageSpec("views/publish.py", "Publish", ":material/publish:", "publish"),
]
DEFAULT = PAGES[0]
