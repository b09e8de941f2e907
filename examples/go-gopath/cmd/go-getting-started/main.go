// From github.com/heroku/go-getting-started at b8561e2cb14e2fe6d908497a3e3799a49e4989fd: a GOPATH-era app
// (Godeps, no go.mod), the standard library only, started by the Procfile's `web: go-getting-started`.
package main

import (
	"log"
	"net/http"
	"os"
)

func hello(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte("Hello From Go!"))
}

func main() {
	port := os.Getenv("PORT")

	if port == "" {
		log.Fatal("$PORT must be set")
	}

	http.HandleFunc("/", hello)

	if err := http.ListenAndServe(":"+port, nil); err != nil {
		log.Fatal(err)
	}
}
