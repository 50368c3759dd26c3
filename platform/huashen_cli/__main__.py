from huashen_cli.main import main

raise SystemExit(main())
