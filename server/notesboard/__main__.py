"""`python -m notesboard` runs the CLI."""

from notesboard.cli.main import app

app(prog_name="notesboard")
