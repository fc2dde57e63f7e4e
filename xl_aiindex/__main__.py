"""``python -m xl_aiindex`` runs the command line."""

from .cli import main

raise SystemExit(main())
