import sys

from exafold.cli import main

sys.exit(main())
