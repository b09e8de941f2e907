const http = require("node:http");

const port = Number(process.env.PORT || 8080);

const server = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/plain" });
  res.end("hello from node-http\n");
});

server.listen(port, "0.0.0.0", () => console.log(`listening on :${port}`));

process.on("SIGTERM", () => server.close(() => process.exit(0)));
