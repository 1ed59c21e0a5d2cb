from synaps.cli import main

main()
