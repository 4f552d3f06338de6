from nmi_desk.entry import main

main()
