package main

import "github.com/acme/billing/internal/server"

func main() { server.Run() }
