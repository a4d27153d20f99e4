"""The `notesboard` command (`main`) and its subcommands, one module each; `refusals` and `interrupts` are shared
by the client commands (post, tail, export, import).
"""
