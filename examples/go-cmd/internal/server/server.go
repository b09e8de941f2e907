package server

import (
	"net/http"
	"os"

	"github.com/go-chi/chi/v5"
)

func Run() {
	r := chi.NewRouter()
	_ = http.ListenAndServe(":"+os.Getenv("PORT"), r)
}
