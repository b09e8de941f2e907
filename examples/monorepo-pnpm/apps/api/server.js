const app = require("fastify")();
app.listen({ port: Number(process.env.PORT || 8080), host: "0.0.0.0" });
