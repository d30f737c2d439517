"""The `zoo` command: an argparse front end over the public API (nothing here that the API lacks).
Its entry point is `zoo.cli.main.main`."""
