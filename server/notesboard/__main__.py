"""`python -m notesboard` runs the CLI."""

from notesboard.cli import app

app(prog_name="notesboard")
