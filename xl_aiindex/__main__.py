"""``python -m xl_aiindex`` runs the command line."""

from .cli import run

run()
