"""The command line's command groups, one module each (`cli.py` wires them into `evalflow`)."""
