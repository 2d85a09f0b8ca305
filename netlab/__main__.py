from netlab.cli import main

raise SystemExit(main())
