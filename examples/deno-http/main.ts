const port = Number(Deno.env.get("PORT") ?? "8080");
const controller = new AbortController();
Deno.addSignalListener("SIGTERM", () => controller.abort());
Deno.serve({ port, hostname: "0.0.0.0", signal: controller.signal }, () => new Response("hello from deno-http\n"));
