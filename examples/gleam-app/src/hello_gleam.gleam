import gleam/bytes_tree
import gleam/erlang/os
import gleam/erlang/process
import gleam/http/response
import gleam/int
import gleam/result
import mist

pub fn main() {
  let port =
    os.get_env("PORT")
    |> result.try(int.parse)
    |> result.unwrap(8080)

  let assert Ok(_) =
    fn(_request) {
      response.new(200)
      |> response.set_body(mist.Bytes(bytes_tree.from_string("hello from gleam\n")))
    }
    |> mist.new
    |> mist.bind("0.0.0.0")
    |> mist.port(port)
    |> mist.start_http

  process.sleep_forever()
}
