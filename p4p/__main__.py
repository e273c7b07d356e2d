"""`python -m p4p`"""

from .cli.entry import main

main()
