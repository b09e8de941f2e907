"""Image stage: build variables and their secret, the BuildKit build, the push."""
