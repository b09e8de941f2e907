// Distilled from github.com/WGrape/ngxway at 666810dfaeb2d1b40c6c65f6c315022befb6378d
// (example/goserver): `go 1.13` in go.mod, the standard library only, a port written in the source.
package main

import (
	"fmt"
	//_ "go.uber.org/automaxprocs"
	"net/http"
)

func testHandler(w http.ResponseWriter, r *http.Request) {
	if _, err := w.Write([]byte("ok")); err != nil {
		return
	}
}

func main() {
	http.HandleFunc("/api/test", testHandler)
	err := http.ListenAndServe(":8000", nil)
	if err != nil {
		fmt.Println("ListenAndServe error : ", err)
		return
	}
}
