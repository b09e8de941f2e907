package main

import (
	"fmt"
	"net/http"
	"os"

	"example.com/greet"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, greet.Hello()) })
	_ = http.ListenAndServe(":"+os.Getenv("PORT"), nil)
}
