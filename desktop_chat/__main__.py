"""`python -m desktop_chat`."""

import sys

from desktop_chat.app import main

if __name__ == "__main__":
    sys.exit(main())
