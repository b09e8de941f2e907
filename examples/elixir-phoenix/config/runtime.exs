import Config

if System.get_env("PHX_SERVER") do
  config :hello, HelloWeb.Endpoint, server: true
end

if config_env() == :prod do
  config :hello, HelloWeb.Endpoint,
    http: [ip: {0, 0, 0, 0}, port: String.to_integer(System.get_env("PORT") || "8080")],
    secret_key_base: System.fetch_env!("SECRET_KEY_BASE")
end
