module github.com/acme/billing

go 1.23

toolchain go1.23.4

require github.com/go-chi/chi/v5 v5.1.0
