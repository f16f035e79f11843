import sys

from tests.helpers.llm_server.server import main

sys.exit(main())
