import express from "express";

import { greeting, log } from "@packagename/logger";

const port = process.env.PORT || "3001";

const app = express();

app.get("/", (_req, res) => {
  res.send(greeting("api"));
});

app.listen(port, () => {
  log(`Server listening on port ${port}`);
});
