#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "dev.py")):
        # A development checkout: start the embedded PostgreSQL if the .env points at it and it is not
        # running (the wheel and the Docker image have no dev.py).
        from dev import join_embedded_database_for

        join_embedded_database_for(os.environ)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
