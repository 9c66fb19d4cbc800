"""``python -m helpers``: the course's command line (see :mod:`helpers.course.cli`)."""

from helpers.course.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
