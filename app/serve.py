"""Start the app with its libraries already imported, so the first visitor does not wait for them.

`streamlit run` imports what the pages need only when the first browser session runs the script: about two
seconds of polars, DuckDB, sqlglot, pydantic, Altair and the catalog on a quiet machine, paid by whoever comes
first. Importing them here, in the server's own process before Streamlit starts, moves that wait to start-up.

    python app/serve.py [streamlit run options] -- --mesh PATH
"""

from __future__ import annotations

import sys
from pathlib import Path

import altair  # noqa: F401
import pandas  # noqa: F401
import polars  # noqa: F401
import pyarrow  # noqa: F401
from streamlit.web import cli

import catalog  # noqa: F401
import catalog.dashboards.run  # noqa: F401
import catalog.governance.policies  # noqa: F401
import catalog.workbench.notebook  # noqa: F401
import catalog.quality.run  # noqa: F401
import catalog.scorecards.review  # noqa: F401
import catalog.scorecards.scorecard  # noqa: F401
import catalog.discover.search  # noqa: F401

MAIN = Path(__file__).with_name("main.py")

if __name__ == "__main__":
    sys.argv = ["streamlit", "run", str(MAIN), *sys.argv[1:]]
    sys.exit(cli.main())
