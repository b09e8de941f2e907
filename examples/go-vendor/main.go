// A server whose only dependency is vendored (see go.mod): it builds with -mod=vendor and no network.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"example.com/greet"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, greet.Hello("go-vendor"))
	})
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
