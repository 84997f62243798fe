from visavis.cli import main

main()
