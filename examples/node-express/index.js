const express = require("express");

const app = express();
app.get("/", (req, res) => res.send("hello"));
const server = app.listen(Number(process.env.PORT || 8080), "0.0.0.0");
process.on("SIGTERM", () => server.close());
