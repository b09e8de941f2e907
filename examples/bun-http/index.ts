const server = Bun.serve({
  port: Number(process.env.PORT ?? 8080),
  fetch: () => new Response("hello from bun-http\n"),
});
process.on("SIGTERM", () => server.stop());
