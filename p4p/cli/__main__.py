"""`python -m p4p.cli`"""

from .entry import main

main()
