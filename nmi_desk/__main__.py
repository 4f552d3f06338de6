from nmi_desk.cli import main

main()
