"""``python -m helpers``: the course runner (see :mod:`helpers.course.runner`)."""

from helpers.course.runner import main

if __name__ == "__main__":
    raise SystemExit(main())
