from linli.bot.cli import main

raise SystemExit(main())
