"""Allow ``python -m mlqa``."""

from mlqa.cli import main

raise SystemExit(main())
