"""`python -m p4p`"""

from .cli import main

main()
