package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// Values flow between states as decoded JSON: map[string]any, []any,
// string, json.Number, bool and nil. Numbers stay json.Number so that
// 64-bit ids survive untouched. Values are never mutated once built.

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

// encodeJSON writes compact JSON without Go's HTML escaping, which Step
// Functions does not do either.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
