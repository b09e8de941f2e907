// Distilled from github.com/Aryota/go-web@d0b7ea1205de29652a2211f8de5081ada33d01db (main.go, template.go):
// a template parsed from view/ and files served from view/static, both opened by relative path at run time.
package main

import (
	"html/template"
	"log"
	"net/http"
	"os"
)

func page(filename string) *template.Template {
	return template.Must(template.ParseFiles(filename))
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	fs := http.FileServer(http.Dir("view/static"))
	http.Handle("/static/", http.StripPrefix("/static/", fs))
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if err := page("view/main.html").Execute(w, map[string]string{"Title": "go-templates"}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
