from unkey_deploy.cli.main import run

run()
