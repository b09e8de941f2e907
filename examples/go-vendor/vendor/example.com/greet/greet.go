// Package greet stands in for a vendored third-party module: it exists only under vendor/.
package greet

// Hello is the greeting the server answers with.
func Hello(name string) string { return "hello from " + name }
