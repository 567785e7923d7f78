"""Allow ``python -m dcctl``."""

from dcctl.cli.main import main

if __name__ == "__main__":
    main()
