// Package jsclient gives Go servers the JavaScript client's sources
// (clients/js/src): the try-it page serves them to the browser as they
// are, ES modules with no build step, so `make run` needs no npm. The
// npm package publishes the same files (package.json "files"); only
// src/amplify.js needs a bundler (it imports @aws-amplify/core).
package jsclient

import (
	"embed"
	"io/fs"
)

//go:embed src/*.js
var source embed.FS

// Source is the client's modules: index.js and what it imports.
func Source() fs.FS {
	sub, err := fs.Sub(source, "src")
	if err != nil {
		panic(err) // the embedded tree always has src
	}
	return sub
}
