from omnimix.cli import main

main()
