import express from "express";
import { greeting } from "@acme/greeting";

express().get("/", (_req, res) => res.send(greeting("web"))).listen(Number(process.env.PORT ?? 8080));
