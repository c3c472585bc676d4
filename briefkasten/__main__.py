from briefkasten.cli import main

raise SystemExit(main())
