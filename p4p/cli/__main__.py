"""`python -m p4p.cli`"""

from . import main

main()
