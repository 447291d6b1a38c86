from panjereh.cli import main

main()
