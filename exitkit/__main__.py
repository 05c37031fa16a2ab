from exitkit.cli import main

main()
