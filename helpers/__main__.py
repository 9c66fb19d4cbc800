"""``python -m helpers``: the course runner (see :mod:`helpers.runner`)."""

from helpers.runner import main

if __name__ == "__main__":
    raise SystemExit(main())
