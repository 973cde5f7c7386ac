from saasctl.cli import main

main()
