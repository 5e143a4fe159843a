package server

import (
	"encoding/json"
	"testing"
)

func TestNestBrackets(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   map[string]any
		want string
	}{
		{"runner info", map[string]any{"token": "t", "info[name]": "runner", "info[version]": "1.1"},
			`{"info":{"name":"runner","version":"1.1"},"token":"t"}`},
		{"lists stay", map[string]any{"scope[]": []any{"a", "b"}}, `{"scope[]":["a","b"]}`},
		{"a plain value wins", map[string]any{"info": "x", "info[name]": "y"}, `{"info":"x","info[name]":"y"}`},
		{"deeper keys stay", map[string]any{"a[b][c]": "1"}, `{"a[b][c]":"1"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nestBrackets(tc.in)
			got, _ := json.Marshal(tc.in)
			if string(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
