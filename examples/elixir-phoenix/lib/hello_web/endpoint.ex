defmodule HelloWeb.Endpoint do
  use Phoenix.Endpoint, otp_app: :hello

  plug Plug.Static, at: "/", from: :hello, gzip: true
  plug HelloWeb.Router
end
