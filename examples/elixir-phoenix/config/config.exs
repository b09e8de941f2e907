import Config

config :hello, HelloWeb.Endpoint,
  adapter: Bandit.PhoenixAdapter,
  render_errors: [formats: [json: HelloWeb.ErrorJSON], layout: false]

config :esbuild,
  version: "0.17.11",
  hello: [args: ~w(js/app.js --bundle --outdir=../priv/static/assets), cd: Path.expand("../assets", __DIR__)]

import_config "#{config_env()}.exs"
