"""Typer commands: thin layers that turn flags into calls of the pipeline stages."""
